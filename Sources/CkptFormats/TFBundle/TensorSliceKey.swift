/// The index key under which one slice of a partitioned variable is stored: TensorFlow's
/// `EncodeTensorNameSlice` (util/saved_tensor_slice_util.cc), built from `OrderedCode`
/// (lib/strings/ordered_code.cc): NumIncreasing(0), String(name), NumIncreasing(rank), then
/// SignedNumIncreasing(start) and SignedNumIncreasing(length, -1 for a full extent) per dimension.
enum TensorSliceKey {
    static func encode(name: [UInt8], extents: [BundleEntry.Extent]) -> [UInt8] {
        var out: [UInt8] = []
        appendNumIncreasing(&out, 0)
        appendString(&out, name)
        appendNumIncreasing(&out, UInt64(extents.count))
        for e in extents {
            appendSignedNumIncreasing(&out, e.start)
            appendSignedNumIncreasing(&out, e.length ?? -1)
        }
        return out
    }

    /// A length byte, then the value's big-endian bytes without leading zeros.
    static func appendNumIncreasing(_ out: inout [UInt8], _ v: UInt64) {
        var bytes: [UInt8] = []
        var x = v
        while x > 0 { bytes.insert(UInt8(x & 0xff), at: 0); x >>= 8 }
        out.append(UInt8(bytes.count))
        out.append(contentsOf: bytes)
    }

    /// 0x00 escaped as 00 FF, 0xFF as FF 00, terminated by 00 01.
    static func appendString(_ out: inout [UInt8], _ s: [UInt8]) {
        for b in s {
            switch b {
            case 0x00: out.append(contentsOf: [0x00, 0xff])
            case 0xff: out.append(contentsOf: [0xff, 0x00])
            default: out.append(b)
            }
        }
        out.append(contentsOf: [0x00, 0x01])
    }

    /// Header bits per encoded length (1...10 bytes): ones in the leading bits say the length.
    private static let lengthToHeaderBits: [(UInt8, UInt8)] = [
        (0, 0), (0x80, 0), (0xc0, 0), (0xe0, 0), (0xf0, 0), (0xf8, 0), (0xfc, 0), (0xfe, 0),
        (0xff, 0), (0xff, 0x80), (0xff, 0xc0),
    ]

    static func appendSignedNumIncreasing(_ out: inout [UInt8], _ val: Int64) {
        let x = UInt64(bitPattern: val < 0 ? ~val : val)
        if x < 64 {
            out.append(lengthToHeaderBits[1].0 ^ UInt8(truncatingIfNeeded: val))
            return
        }
        // Value bits (x's bit length) plus sign and header fit in 7 bits per byte, up to 10 bytes.
        let bits = 64 - x.leadingZeroBitCount
        let length = min(10, (bits + 1 + 6) / 7)
        let sign: UInt8 = val < 0 ? 0xff : 0x00
        var buf: [UInt8] = [sign, sign]
        for i in 0..<8 { buf.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: val) >> (56 - 8 * UInt64(i)))) }
        var encoded = Array(buf[(10 - length)...])
        encoded[0] ^= lengthToHeaderBits[length].0
        encoded[1] ^= lengthToHeaderBits[length].1
        out.append(contentsOf: encoded)
    }
}
