import CkptCore

/// Which vocabulary rows a pruned checkpoint keeps: `keep` (old ids, in the new order), then one
/// appended row per `compound` entry, the mean of those old rows (bert4keras `keep_tokens` and
/// `compound_tokens`). Applied to every tensor whose rule names a vocabulary axis.
public struct VocabularySelection: Sendable, Equatable {
    public let keep: [Int]
    public let compound: [[Int]]

    public init(keep: [Int], compound: [[Int]] = []) {
        self.keep = keep
        self.compound = compound
    }

    public var newSize: Int { keep.count + compound.count }

    /// The selected rows of a tensor whose vocabulary axis is its first, handed to `sink` in
    /// chunks of about `chunkBytes` as they are gathered: memory stays at one chunk, not the
    /// pruned tensor (a 2048-wide embedding of 21,128 rows is 173 MB).
    func stream(
        _ src: UnsafeRawBufferPointer, shape: [Int], dtype: DType, chunkBytes: Int = 4 << 20,
        _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let item = dtype.itemSize!
        let run = shape.dropFirst().reduce(1, *) * item
        let perChunk = max(1, chunkBytes / max(1, run))
        var buffer = [UInt8](repeating: 0, count: min(newSize, perChunk) * run)
        var filled = 0
        func flush() throws {
            if filled > 0 {
                try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<(filled * run)])) }
            }
            filled = 0
        }
        for old in keep {
            buffer.withUnsafeMutableBytes { dst in
                (dst.baseAddress! + filled * run).copyMemory(from: src.baseAddress! + old * run, byteCount: run)
            }
            filled += 1
            if filled == perChunk { try flush() }
        }
        try flush()
        if !compound.isEmpty {
            let extra = VocabularySelection(keep: [], compound: compound)
            try extra.apply(src, shape: shape, axis: 0, dtype: dtype).withUnsafeBytes { try sink($0) }
        }
    }

    /// The rows of `src` ([rows, inner] bytes along `axis` 0, or [outer, rows] along axis 1) selected
    /// and averaged, in the tensor's own dtype. Means are computed in float64 and rounded once,
    /// as `np.average` does with bert4keras' integer weights.
    func apply(_ src: UnsafeRawBufferPointer, shape: [Int], axis: Int, dtype: DType) -> [UInt8] {
        let item = dtype.itemSize!
        let rows = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        let outer = shape[..<axis].reduce(1, *)
        let run = inner * item
        var out = [UInt8](repeating: 0, count: outer * newSize * run)
        out.withUnsafeMutableBytes { dst in
            for o in 0..<outer {
                let srcBase = o * rows * run, dstBase = o * newSize * run
                for (n, old) in keep.enumerated() {
                    (dst.baseAddress! + dstBase + n * run).copyMemory(
                        from: src.baseAddress! + srcBase + old * run, byteCount: run)
                }
                for (c, group) in compound.enumerated() {
                    var sum = [Double](repeating: 0, count: inner)
                    for old in group {
                        let row = UnsafeRawBufferPointer(
                            rebasing: src[(srcBase + old * run)..<(srcBase + (old + 1) * run)])
                        var f = [Double](repeating: 0, count: inner)
                        f.withUnsafeMutableBytes { DTypeCast.convert(row, from: dtype, into: $0, to: .float64) }
                        for i in 0..<inner { sum[i] += f[i] }
                    }
                    for i in 0..<inner { sum[i] /= Double(group.count) }
                    let target = UnsafeMutableRawBufferPointer(
                        rebasing: dst[(dstBase + (keep.count + c) * run)..<(dstBase + (keep.count + c + 1) * run)])
                    sum.withUnsafeBytes { DTypeCast.convert($0, from: .float64, into: target, to: dtype) }
                }
            }
        }
        return out
    }
}
