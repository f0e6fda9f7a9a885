import CkptCore

/// The header of a `.npy` array (numpy/lib/format.py, versions 1.0 to 3.0): magic `\x93NUMPY`,
/// version, header length, then a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
struct NPYHeader {
    let dtype: DType
    let shape: [Int]
    let fortranOrder: Bool
    /// Bytes before the array data.
    let length: Int

    /// NumPy `descr` strings ckpt reads: little-endian or byte-order-free codes.
    static let descrCodes: [String: DType] = [
        "<f2": .float16, "<f4": .float32, "<f8": .float64,
        "|i1": .int8, "<i2": .int16, "<i4": .int32, "<i8": .int64,
        "|u1": .uint8, "<u2": .uint16, "<u4": .uint32, "<u8": .uint64,
        "|b1": .bool, "<c8": .complex64, "<c16": .complex128,
    ]

    /// Parses the header at the start of `bytes`; `nil` when more bytes are needed.
    static func parse(_ bytes: [UInt8], file: String, member: String) throws -> NPYHeader? {
        func bad(_ why: String) -> CkptError { CkptError(.malformed, file: file, tensor: member, why) }
        guard bytes.count >= 10 else { return nil }
        guard bytes[0..<6].elementsEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]) else {
            throw CkptError(.badMagic, file: file, tensor: member, "not a .npy array (magic \\x93NUMPY missing)")
        }
        let major = bytes[6]
        let (lenBytes, headerLen): (Int, Int)
        switch major {
        case 1: (lenBytes, headerLen) = (2, Int(bytes[8]) | Int(bytes[9]) << 8)
        case 2, 3:
            guard bytes.count >= 12 else { return nil }
            (lenBytes, headerLen) = (4, (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) })
        default:
            throw CkptError(.unsupported, file: file, tensor: member, ".npy format version \(major) is not supported")
        }
        let total = 8 + lenBytes + headerLen
        guard bytes.count >= total else { return nil }
        let text = String(decoding: bytes[(8 + lenBytes)..<total], as: UTF8.self)
        let dict = try PyLiteral.parseDict(text).get(or: bad("header is not a Python dict literal"))
        guard case .string(let descr)? = dict["descr"] else { throw bad("header has no 'descr' string") }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw bad("header has no 'fortran_order'") }
        guard case .tuple(let dims)? = dict["shape"], dims.allSatisfy({ $0 >= 0 }) else {
            throw bad("header has no valid 'shape' tuple")
        }
        let code = descr.hasPrefix("=") ? "<" + descr.dropFirst() : descr
        guard let dtype = descrCodes[code] ?? descrCodes["|" + code.dropFirst()] else {
            throw CkptError(.unknownDType, file: file, tensor: member, "unsupported array dtype '\(descr)'")
        }
        return NPYHeader(dtype: dtype, shape: dims, fortranOrder: fortran, length: total)
    }
}

/// The few Python literals a .npy header uses: strings, True/False, tuples of integers.
enum PyLiteral {
    enum Value { case string(String), bool(Bool), tuple([Int]) }

    static func parseDict(_ text: String) -> [String: Value]? {
        var s = Substring(text.trimmingCharactersInSet())
        guard s.first == "{", s.last == "}" else { return nil }
        s = s.dropFirst().dropLast()
        var out: [String: Value] = [:]
        while true {
            s = s.drop(while: { $0 == " " || $0 == "," })
            if s.isEmpty { return out }
            guard let key = quoted(&s) else { return nil }
            s = s.drop(while: { $0 == " " })
            guard s.first == ":" else { return nil }
            s = s.dropFirst().drop(while: { $0 == " " })
            if s.first == "'" || s.first == "\"" {
                guard let v = quoted(&s) else { return nil }
                out[key] = .string(v)
            } else if s.hasPrefix("True") {
                out[key] = .bool(true); s = s.dropFirst(4)
            } else if s.hasPrefix("False") {
                out[key] = .bool(false); s = s.dropFirst(5)
            } else if s.first == "(" {
                guard let close = s.firstIndex(of: ")") else { return nil }
                let inner = s[s.index(after: s.startIndex)..<close]
                let parts = inner.split(separator: ",").map { $0.trimmingCharactersInSet() }.filter { !$0.isEmpty }
                let ints = parts.compactMap { Int($0) }
                guard ints.count == parts.count else { return nil }
                out[key] = .tuple(ints)
                s = s[s.index(after: close)...]
            } else {
                return nil
            }
        }
    }

    private static func quoted(_ s: inout Substring) -> String? {
        guard let q = s.first, q == "'" || q == "\"" else { return nil }
        let body = s.dropFirst()
        guard let end = body.firstIndex(of: q) else { return nil }
        s = body[body.index(after: end)...]
        return String(body[..<end])
    }
}

extension StringProtocol {
    func trimmingCharactersInSet() -> String {
        String(self.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}

extension Optional {
    func get(or error: @autoclosure () -> some Error) throws -> Wrapped {
        guard let v = self else { throw error() }
        return v
    }
}
