import CKernels
import CkptCore

/// Produces a planned output's bytes from the source: untouched when the plan allows (a view of
/// the mapped source), else through part extraction, transposes, fusion and a dtype cast, one
/// tensor in memory at a time. Bytes are handed to `sink` in order, possibly in several pieces.
public enum TensorAssembly {
    /// Elements converted per piece when the dtype changes: small enough that the piece is still
    /// in cache when the sink hands it to the kernel.
    static let castChunk = 1 << 16
    /// Bytes of a transposed strip, at least 128 rows of the output (512 bytes of each source row,
    /// so that a tall matrix's source pages are walked once per 128 columns), in whole 8-row blocks.
    static let stripBytes = 512 << 10
    static let stripRows = 128

    public static func produce(
        _ output: PlannedOutput, from source: any TensorSource,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        if let generator = output.generator {
            try generator.values().withUnsafeBytes { try emit($0, from: .float32, to: output.dtype, sink) }
            return
        }
        let sourceDType = output.inputs[0].source.dtype
        defer { for input in output.inputs { source.discard(input.source) } }
        if output.inputs.count == 1, output.inputs[0].keepsBytes, output.selection == nil {
            try source.withBytes(of: output.inputs[0].source) {
                try emit($0, from: sourceDType, to: output.dtype, sink)
            }
            return
        }
        if output.inputs.count == 1, output.inputs[0].fromSource.isIdentity, output.inputs[0].toTarget.isIdentity,
            let selection = output.selection, let axis = output.vocabAxis
        {
            // Pruning alone: rows selected straight from the source view, no full-size copy.
            let input = output.inputs[0]
            if axis == 0 {
                try source.withBytes(of: input.source) { src in
                    try selection.stream(src, shape: input.source.shape, dtype: sourceDType) {
                        try emit($0, from: sourceDType, to: output.dtype, sink)
                    }
                }
                return
            }
            let selected = try source.withBytes(of: input.source) {
                selection.apply($0, shape: input.source.shape, axis: axis, dtype: sourceDType)
            }
            try selected.withUnsafeBytes { try emit($0, from: sourceDType, to: output.dtype, sink) }
            return
        }
        if output.inputs.count == 1, output.selection == nil, sourceDType.itemSize == 4,
            let matrix = loneTranspose(output.inputs[0])
        {
            try source.withBytes(of: output.inputs[0].source) { src in
                try streamTransposed(src, rows: matrix.rows, cols: matrix.cols) {
                    try emit($0, from: sourceDType, to: output.dtype, sink)
                }
            }
            return
        }
        var out = try assembled(output, from: source)
        if let selection = output.selection, let axis = output.vocabAxis {
            let fullShape = try ConversionPlanner.targetShape(output.inputs, file: source.path, name: output.name)
            out = out.withUnsafeBytes { selection.apply($0, shape: fullShape, axis: axis, dtype: sourceDType) }
        }
        try out.withUnsafeBytes { try emit($0, from: sourceDType, to: output.dtype, sink) }
    }

    /// The whole (unpruned) target tensor in the source's dtype, its parts read through their
    /// layouts and placed: every byte is written by the parts (they tile the target), so no zero fill.
    static func assembled(_ output: PlannedOutput, from source: any TensorSource) throws -> [UInt8] {
        let item = output.inputs[0].source.dtype.itemSize!
        let fullShape =
            output.selection == nil
            ? output.shape : try ConversionPlanner.targetShape(output.inputs, file: source.path, name: output.name)
        let total = fullShape.reduce(1, *) * item
        return try [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            let dst = UnsafeMutableRawBufferPointer(buffer)
            for (k, input) in output.inputs.enumerated() {
                try source.withBytes(of: input.source) { src in
                    if input.fromSource.isIdentity {
                        place(src, input: input, index: k, into: dst, item: item)
                    } else {
                        toNative(src, input: input, item: item).withUnsafeBytes {
                            place($0, input: input, index: k, into: dst, item: item)
                        }
                    }
                }
            }
            count = total
        }
    }

    /// The source matrix's `rows × cols` when the one change an input needs is a 2-D transpose
    /// (into the native layout or out of it; a squeeze moves no bytes).
    static func loneTranspose(_ input: PlannedInput) -> (rows: Int, cols: Int)? {
        let from = input.fromSource, to = input.toTarget
        guard from.part == nil, to.part == nil, to.squeeze == nil, from.transpose != to.transpose else { return nil }
        var shape = input.source.shape
        if let axis = from.squeeze { shape.remove(at: axis) }
        return shape.count == 2 ? (shape[0], shape[1]) : nil
    }

    /// The transpose of a `rows × cols` matrix of 4-byte elements, handed to `body` in strips of
    /// whole output rows transposed into one small buffer, reused: each strip is still in cache
    /// when the sink copies it out, and no tensor-sized copy is made.
    static func streamTransposed(
        _ src: UnsafeRawBufferPointer, rows: Int, cols: Int, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let rowBytes = rows * 4
        let perStrip = min(cols, max(stripRows, stripBytes / max(rowBytes, 1) / 8 * 8))
        guard perStrip > 0 else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: perStrip * rowBytes, alignment: 64)
        defer { buffer.deallocate() }
        var c0 = 0
        while c0 < cols {
            let k = min(perStrip, cols - c0)
            ckpt_transpose32_strided(src.baseAddress! + c0 * 4, cols, buffer.baseAddress, rows, rows, k)
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<(k * rowBytes)]))
            c0 += k
        }
    }

    /// Hands `bytes` to `sink` as they are, or cast to `to` piece by piece.
    static func emit(
        _ bytes: UnsafeRawBufferPointer, from: DType, to: DType,
        _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        if from == to { return try sink(bytes) }
        let inItem = from.itemSize!, outItem = to.itemSize!
        let n = bytes.count / inItem
        var buffer = [UInt8](repeating: 0, count: min(n, castChunk) * outItem)
        var start = 0
        while start < n {
            let count = min(castChunk, n - start)
            try buffer.withUnsafeMutableBytes { b in
                let piece = UnsafeMutableRawBufferPointer(rebasing: b[0..<(count * outItem)])
                DTypeCast.convert(
                    UnsafeRawBufferPointer(rebasing: bytes[(start * inItem)..<((start + count) * inItem)]),
                    from: from, into: piece, to: to)
                try sink(UnsafeRawBufferPointer(piece))
            }
            start += count
        }
    }

    /// Source bytes to native bytes: squeeze (no data change), part, transpose.
    static func toNative(_ src: UnsafeRawBufferPointer, input: PlannedInput, item: Int) -> [UInt8] {
        var shape = input.source.shape
        if let axis = input.fromSource.squeeze { shape.remove(at: axis) }
        guard let p = input.fromSource.part else {
            // One pass from the mapped source: no intermediate copy.
            return input.fromSource.transpose ? transpose(src, rows: shape[0], cols: shape[1], item: item) : Array(src)
        }
        var bytes = extractPart(p, of: src, shape: shape, item: item)
        shape[p.axis] /= p.count
        if input.fromSource.transpose {
            bytes = bytes.withUnsafeBytes { transpose($0, rows: shape[0], cols: shape[1], item: item) }
        }
        return bytes
    }

    /// Native bytes into the output: transpose, then into part `index` of the fused tensor.
    static func place(
        _ native: UnsafeRawBufferPointer, input: PlannedInput, index: Int,
        into dst: UnsafeMutableRawBufferPointer, item: Int
    ) {
        func put(_ bytes: UnsafeRawBufferPointer, shape: [Int]) {
            if let p = input.toTarget.part {
                insertPart(p, index: index, from: bytes, partShape: shape, into: dst, item: item)
            } else {
                dst.copyMemory(from: bytes)
            }
        }
        let shape = input.nativeShape
        if input.toTarget.transpose && input.toTarget.part == nil {
            // Straight into the output: the transposed tensor is the whole target.
            transpose(native, into: dst, rows: shape[0], cols: shape[1], item: item)
        } else if input.toTarget.transpose {
            transpose(native, rows: shape[0], cols: shape[1], item: item).withUnsafeBytes {
                put($0, shape: shape.reversed())
            }
        } else {
            put(native, shape: shape)
        }
    }

    /// Part `p.index` of `p.count` equal parts along `p.axis`, as a dense tensor.
    static func extractPart(_ p: LayoutName.Part, of src: UnsafeRawBufferPointer, shape: [Int], item: Int) -> [UInt8] {
        let outer = shape[..<p.axis].reduce(1, *)
        let rest = shape[(p.axis + 1)...].reduce(1, *)
        let run = shape[p.axis] / p.count * rest * item
        let stride = shape[p.axis] * rest * item
        var out = [UInt8](repeating: 0, count: outer * run)
        out.withUnsafeMutableBytes { dst in
            for o in 0..<outer {
                (dst.baseAddress! + o * run).copyMemory(
                    from: src.baseAddress! + o * stride + p.index * run, byteCount: run)
            }
        }
        return out
    }

    /// The inverse of `extractPart`: writes one part into its place in the fused tensor.
    static func insertPart(
        _ p: LayoutName.Part, index: Int, from src: UnsafeRawBufferPointer, partShape: [Int],
        into dst: UnsafeMutableRawBufferPointer, item: Int
    ) {
        let outer = partShape[..<p.axis].reduce(1, *)
        let run = partShape[p.axis...].reduce(1, *) * item
        let stride = run * p.count
        for o in 0..<outer {
            (dst.baseAddress! + o * stride + index * run).copyMemory(from: src.baseAddress! + o * run, byteCount: run)
        }
    }

    /// Matrix transpose in tiles, so both sides are walked in cache-sized blocks.
    static func transpose(_ src: UnsafeRawBufferPointer, rows: Int, cols: Int, item: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: rows * cols * item) { buffer, count in
            transpose(src, into: UnsafeMutableRawBufferPointer(buffer), rows: rows, cols: cols, item: item)
            count = rows * cols * item
        }
    }

    static func transpose(
        _ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer, rows: Int, cols: Int, item: Int
    ) {
        do {
            switch item {
            case 1: tiled(src.bindMemory(to: UInt8.self), dst.bindMemory(to: UInt8.self), rows, cols)
            case 2: tiled(src.bindMemory(to: UInt16.self), dst.bindMemory(to: UInt16.self), rows, cols)
            case 4: ckpt_transpose32(src.baseAddress, dst.baseAddress, rows, cols)
            case 8: tiled(src.bindMemory(to: UInt64.self), dst.bindMemory(to: UInt64.self), rows, cols)
            default:
                for r in 0..<rows {
                    for c in 0..<cols {
                        (dst.baseAddress! + (c * rows + r) * item).copyMemory(
                            from: src.baseAddress! + (r * cols + c) * item, byteCount: item)
                    }
                }
            }
        }
    }

    private static func tiled<T>(
        _ s: UnsafeBufferPointer<T>, _ d: UnsafeMutableBufferPointer<T>, _ rows: Int, _ cols: Int
    ) {
        let tile = 32
        var r0 = 0
        while r0 < rows {
            var c0 = 0
            while c0 < cols {
                for r in r0..<min(r0 + tile, rows) {
                    for c in c0..<min(c0 + tile, cols) { d[c * rows + r] = s[r * cols + c] }
                }
                c0 += tile
            }
            r0 += tile
        }
    }
}
