import CkptCore

/// The on-disk layout of a DT_STRING tensor in a bundle (tensor_bundle.cc, WriteStringTensor):
/// `[varint64 len]×N [masked CRC32C of the lengths] [bytes]×N`. The entry's CRC32C covers the
/// lengths (as little-endian uint32, or uint64 when above 4 GiB), the length checksum and the bytes.
enum TFStringTensor {
    static func decode(_ bytes: UnsafeRawBufferPointer, count: Int, storedCRC: UInt32, file: String, tensor: String)
        throws -> [[UInt8]]
    {
        func bad(_ kind: CkptError.Kind, _ why: String) -> CkptError {
            CkptError(kind, file: file, tensor: tensor, why)
        }
        guard count > 0 else { return [] }
        var r = ByteReader(bytes)
        var lengths: [Int] = []
        // Every length takes at least one byte: a count larger than the bytes is caught below.
        lengths.reserveCapacity(min(count, bytes.count))
        var crc: UInt32 = 0
        var total = 0
        for _ in 0..<count {
            guard let n = r.varint64(), n <= UInt64(bytes.count) else {
                throw bad(.malformed, "string lengths are not valid varints or exceed the stored size")
            }
            if n <= UInt64(UInt32.max) {
                withUnsafeBytes(of: UInt32(n).littleEndian) { crc = Checksum.crc32c($0, extending: crc) }
            } else {
                withUnsafeBytes(of: n.littleEndian) { crc = Checksum.crc32c($0, extending: crc) }
            }
            lengths.append(Int(n))
            total += Int(n)
        }
        guard let masked = r.uint32LE() else { throw bad(.truncated, "string tensor ends inside its length checksum") }
        guard Checksum.unmask(masked) == crc else {
            throw bad(.checksumMismatch, "string length checksum mismatch")
        }
        withUnsafeBytes(of: masked.littleEndian) { crc = Checksum.crc32c($0, extending: crc) }
        guard total == r.remaining else {
            throw bad(.sizeMismatch, "string lengths add up to \(total) bytes, entry holds \(r.remaining)")
        }
        var out: [[UInt8]] = []
        out.reserveCapacity(lengths.count)
        for n in lengths {
            let b = r.bytes(n)!
            crc = Checksum.crc32c(b, extending: crc)
            out.append(Array(b))
        }
        guard crc == storedCRC else {
            throw bad(.checksumMismatch, "CRC32C mismatch (index says \(hex(storedCRC)), data gives \(hex(crc)))")
        }
        return out
    }
}
