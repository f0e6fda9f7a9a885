import CkptCore

/// Writes a NumPy `.npz` (zip of `.npy` members, deflated like `numpy.savez_compressed`) that
/// `numpy.load` reads: `.npy` format 1.0 headers padded to 64 bytes, C order, little-endian.
public final class NPZWriter {
    public let path: String
    private let file: OutputFile
    private var central: [UInt8] = []
    private var count = 0
    private var offset = 0

    public init(path: String) throws {
        self.path = path
        file = try OutputFile(path: path)
    }

    /// NumPy `descr` of a dtype.
    static func descr(_ d: DType) -> String? {
        NPYHeader.descrCodes.first { $0.value == d }?.key
    }

    /// Adds array `name` (stored as `name.npy`) with `bytes` in C order.
    public func add(_ name: String, dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        guard let descr = Self.descr(dtype) else {
            throw CkptError(.unsupported, file: path, tensor: name, "npy has no dtype for \(dtype.rawValue)")
        }
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }".utf8)
        while (10 + dict.count + 1) % 64 != 0 { dict.append(0x20) }
        dict.append(0x0a)
        var member: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.count & 0xff), UInt8(dict.count >> 8)]
        member += dict
        member += bytes
        let crc = member.withUnsafeBytes { Checksum.crc32($0) }
        let compressed = try Deflate.compress(member, file: path)
        let nameBytes = Array((name + ".npy").utf8)
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
        guard compressed.count < Int(UInt32.max), member.count < Int(UInt32.max) else {
            throw CkptError(
                .unsupported, file: path, tensor: name,
                "arrays above 4 GiB need ZIP64, which this writer does not write")
        }
        // Date 1980-01-01 00:00 (DOS date 0x21), like numpy with a pinned clock: reproducible files.
        let common =
            le16(20) + le16(0) + le16(8) + le16(0) + le16(0x21) + le32(crc) + le32(UInt32(compressed.count))
            + le32(UInt32(member.count)) + le16(nameBytes.count) + le16(0)
        let local = le32(0x0403_4b50) + common + nameBytes
        try file.write(local)
        try file.write(compressed)
        central +=
            le32(0x0201_4b50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(UInt32(offset))
            + nameBytes
        offset += local.count + compressed.count
        count += 1
    }

    /// Writes the central directory; `comment` becomes the archive's comment (ckpt marks its own
    /// outputs with `ckptComment`, so that `--force` knows what it may replace).
    public func finish(comment: [UInt8] = []) throws {
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
        try file.write(central)
        try file.write(
            le32(0x0605_4b50) + le16(0) + le16(0) + le16(count) + le16(count) + le32(central.count) + le32(offset)
                + le16(comment.count) + comment)
        try file.close()
    }

    /// The archive comment of the `.npz` files ckpt writes.
    public static let ckptComment = Array("written by ckpt".utf8)

    /// Whether `path` is an `.npz` that ckpt wrote (its archive ends with ckpt's comment).
    public static func isCkptOutput(_ path: String) -> Bool {
        guard FileSystem.isRegularFile(path), let file = try? MappedFile(path: path) else { return false }
        let tail = ckptComment.count + 2
        guard file.size >= 22 + ckptComment.count else { return false }
        return withExtendedLifetime(file) { Array(file.bytes.suffix(tail)) } == [UInt8(ckptComment.count), 0]
            + ckptComment
    }
}
