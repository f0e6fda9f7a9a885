/// A cursor over untrusted bytes: every read is bounds-checked and reports failure as nil, so a
/// format reader turns a short or malformed structure into its own typed error.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int

    public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    /// LEB128 varint of at most 64 bits (10 bytes), as protobuf and LevelDB write them.
    public mutating func varint64() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count && shift <= 63 {
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    public mutating func varint32() -> UInt32? {
        let start = offset
        guard let v = varint64(), v <= UInt64(UInt32.max), offset - start <= 5 else { return nil }
        return UInt32(v)
    }

    public mutating func bytes(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, n <= remaining else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
    }

    public mutating func uint32LE() -> UInt32? {
        guard let b = bytes(4) else { return nil }
        return b.loadUnaligned(as: UInt32.self).littleEndian
    }

    public mutating func uint64LE() -> UInt64? {
        guard let b = bytes(8) else { return nil }
        return b.loadUnaligned(as: UInt64.self).littleEndian
    }

    public mutating func uint16LE() -> UInt16? {
        guard let b = bytes(2) else { return nil }
        return b.loadUnaligned(as: UInt16.self).littleEndian
    }

    public mutating func seek(to position: Int) -> Bool {
        guard position >= 0, position <= bytes.count else { return false }
        offset = position
        return true
    }
}
