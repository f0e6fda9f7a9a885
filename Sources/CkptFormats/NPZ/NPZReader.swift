import CkptCore

/// A NumPy `.npz` archive (`numpy.savez` stored, `numpy.savez_compressed` deflated): a zip of
/// `.npy` members. Stored members are read in place from the mapping; deflated ones are
/// inflated one at a time and checked against the zip CRC32. Fortran-ordered arrays are handed
/// out in C order like every other tensor.
public final class NPZReader: TensorSource {
    public let formatName = "npz"
    public let path: String
    public let tensors: [TensorInfo]

    private struct Array_ {
        let member: ZipDirectory.Member
        let header: NPYHeader
    }

    private let file: MappedFile
    private let arrays: [String: Array_]

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let dir = try ZipDirectory(file: file)
        var arrays: [String: Array_] = [:]
        var infos: [TensorInfo] = []
        // Every member is an array, as numpy.load sees it: skipping one would hide a tensor.
        for m in dir.members {
            let name = m.name.hasSuffix(".npy") ? String(m.name.dropLast(4)) : m.name
            let header = try Self.header(of: m, in: file)
            guard let bytes = ShapeMath.byteCount(header.shape, header.dtype) else {
                throw CkptError(
                    .sizeMismatch, file: path, tensor: name, "shape \(ShapeMath.describe(header.shape)) overflows")
            }
            guard m.uncompressedSize == header.length + bytes else {
                throw CkptError(
                    .sizeMismatch, file: path, tensor: name,
                    "member holds \(m.uncompressedSize - header.length) data bytes, "
                        + "\(header.dtype.rawValue) \(ShapeMath.describe(header.shape)) needs \(bytes)"
                )
            }
            guard arrays[name] == nil else {
                throw CkptError(.malformed, file: path, tensor: name, "array stored twice")
            }
            arrays[name] = Array_(member: m, header: header)
            infos.append(TensorInfo(name: name, dtype: header.dtype, shape: header.shape, byteCount: bytes))
        }
        self.arrays = arrays
        tensors = infos
    }

    private static func compressed(_ m: ZipDirectory.Member, _ file: MappedFile) throws -> UnsafeRawBufferPointer {
        guard m.method == 0 || m.method == 8 else {
            throw CkptError(
                .unsupported, file: file.path, tensor: m.name,
                "zip compression method \(m.method) (only stored and deflate)")
        }
        return try file.slice(offset: m.dataOffset, count: m.compressedSize, tensor: m.name)
    }

    /// Reads just enough of a member to parse its .npy header.
    private static func header(of m: ZipDirectory.Member, in file: MappedFile) throws -> NPYHeader {
        let src = try compressed(m, file)
        var want = min(m.uncompressedSize, 4096)
        while true {
            let head: [UInt8] =
                m.method == 0
                ? Array(src[0..<min(want, src.count)])
                : try Inflate.inflate(src, limit: want, file: file.path, member: m.name).bytes
            if let h = try NPYHeader.parse(head, file: file.path, member: m.name) { return h }
            guard head.count == want, want < m.uncompressedSize else {
                throw CkptError(.truncated, file: file.path, tensor: m.name, ".npy header is cut short")
            }
            want = min(m.uncompressedSize, want * 16)
        }
    }

    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let a = arrays[tensor.name] else {
            throw CkptError(.tensorNotFound, file: path, tensor: tensor.name, "no such array")
        }
        let src = try Self.compressed(a.member, file)
        if a.member.method == 0 {
            guard src.count == a.member.uncompressedSize else {
                throw CkptError(.sizeMismatch, file: path, tensor: tensor.name, "stored member sizes disagree")
            }
            try verifyCRC(src, a.member, tensor.name)
            return try Self.inCOrder(UnsafeRawBufferPointer(rebasing: src[a.header.length...]), a.header, tensor, body)
        }
        let (bytes, _) = try Inflate.inflate(src, limit: a.member.uncompressedSize, file: path, member: a.member.name)
        guard bytes.count == a.member.uncompressedSize else {
            throw CkptError(
                .truncated, file: path, tensor: tensor.name,
                "inflates to \(bytes.count) bytes, directory says \(a.member.uncompressedSize)")
        }
        return try bytes.withUnsafeBytes { whole in
            try verifyCRC(whole, a.member, tensor.name)
            return try Self.inCOrder(
                UnsafeRawBufferPointer(rebasing: whole[a.header.length...]), a.header, tensor, body)
        }
    }

    private func verifyCRC(_ whole: UnsafeRawBufferPointer, _ member: ZipDirectory.Member, _ name: String) throws {
        try ZipDirectory.checkCRC(whole, of: member, file: path, tensor: name)
    }

    /// The array data in C order: as stored, or transposed from Fortran order into a new buffer.
    private static func inCOrder<R>(
        _ data: UnsafeRawBufferPointer, _ header: NPYHeader, _ tensor: TensorInfo,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        guard header.fortranOrder, tensor.shape.count > 1 else { return try body(data) }
        var c = [UInt8](repeating: 0, count: data.count)
        c.withUnsafeMutableBytes {
            FortranOrder.toC(data, into: $0, shape: tensor.shape, itemSize: tensor.dtype.itemSize!)
        }
        return try c.withUnsafeBytes(body)
    }
}

/// Reorders a column-major array into row-major.
enum FortranOrder {
    static func toC(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer, shape: [Int], itemSize: Int)
    {
        let n = shape.reduce(1, *)
        guard n > 0 else { return }
        let rank = shape.count
        var cStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { cStrides[d] = cStrides[d + 1] * shape[d + 1] }
        var idx = [Int](repeating: 0, count: rank)
        // Walk the source in its own (Fortran) order: first index fastest.
        for f in 0..<n {
            var c = 0
            for d in 0..<rank { c += idx[d] * cStrides[d] }
            (dst.baseAddress! + c * itemSize).copyMemory(from: src.baseAddress! + f * itemSize, byteCount: itemSize)
            var d = 0
            while d < rank {
                idx[d] += 1
                if idx[d] < shape[d] { break }
                idx[d] = 0
                d += 1
            }
        }
    }
}
