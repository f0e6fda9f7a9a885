import CkptCore

/// One metadata value, with the GGUF type it is stored as: llama.cpp refuses a hyper-parameter
/// stored with another type than its converter's (a UINT64 block count), so the type is data.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string([UInt8]), uint64(UInt64), int64(Int64), float64(Double)
    /// Elements of one type (arrays of arrays are allowed by the format; ckpt writes none).
    case array(GGUFValueType, [GGUFValue])

    public static func text(_ s: String) -> GGUFValue { .string(Array(s.utf8)) }

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        case .array: return .array
        }
    }

    /// The value as an integer, for any integer type.
    public var integer: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return v <= UInt64(Int.max) ? Int(v) : nil
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    public var number: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return integer.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let b) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }

    /// A short text for listings: scalars as written, arrays as `[TYPE × count]` with the first
    /// few items.
    public var summary: String {
        switch self {
        case .string(let b):
            return "\"" + String(decoding: b.prefix(120), as: UTF8.self) + (b.count > 120 ? "…" : "") + "\""
        case .bool(let v): return String(v)
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .array(let t, let items):
            let head = items.prefix(5).map(\.summary).joined(separator: ", ")
            return "[\(t.name) × \(items.count)]" + (items.isEmpty ? "" : " \(head)\(items.count > 5 ? ", …" : "")")
        default: return integer.map(String.init) ?? "?"
        }
    }
}
