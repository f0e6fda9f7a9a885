import CCRC32C
import CZlib

/// Checksums used by the formats: CRC32C (TensorFlow's tables and bundles) and CRC32 (zip, and
/// the fixtures' golden listings, which Python's `zlib.crc32` made).
public enum Checksum {
    /// CRC32C of `bytes`, extending `crc` (start with 0). Hardware instructions where present.
    public static func crc32c(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return ckpt_crc32c_extend(crc, base, bytes.count)
    }

    public static func crc32c(_ bytes: [UInt8], extending crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { crc32c($0, extending: crc) }
    }

    public static var crc32cIsHardware: Bool { ckpt_crc32c_is_hardware() != 0 }

    /// TensorFlow/LevelDB store CRCs "masked" so that a CRC of data holding CRCs stays well mixed.
    public static func unmask(_ masked: UInt32) -> UInt32 {
        let rot = masked &- 0xa282_ead8
        return (rot >> 17) | (rot << 15)
    }

    public static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xa282_ead8
    }

    /// zlib's CRC32: by carry-less multiplication where the CPU has it (2-3 × zlib's tables, which
    /// a zip-stored PyTorch checkpoint's per-entry check made its largest cost), else zlib's, in
    /// chunks so that sizes above UInt32.max are fine.
    public static func crc32(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        if crc32IsFast, let base = bytes.baseAddress { return ckpt_crc32_extend(crc, base, bytes.count) }
        return zlibCRC32(bytes, extending: crc)
    }

    public static var crc32IsFast: Bool { ckpt_crc32_is_fast() != 0 }

    /// zlib's own CRC32 (the fallback, and the reference the fast path is tested against).
    public static func zlibCRC32(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
        var left = bytes.count
        var c = UInt(crc)
        while left > 0 {
            let n = min(left, 1 << 30)
            c = CZlib.crc32(c, p, UInt32(n))
            p += n
            left -= n
        }
        return UInt32(truncatingIfNeeded: c)
    }
}

/// A checksum as error messages print it: `0x` and eight hex digits.
public func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}
