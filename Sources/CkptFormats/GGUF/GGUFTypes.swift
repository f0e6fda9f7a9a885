import CkptCore

/// GGUF's fixed numbers (ggml-org/llama.cpp `gguf-py/gguf/constants.py`, `ggml/include/gguf.h`).
public enum GGUFFormat {
    /// "GGUF" as the first four bytes of the file.
    public static let magic: [UInt8] = Array("GGUF".utf8)
    /// The version llama.cpp's writer produces; versions 2 and 3 share the layout read here.
    public static let version: UInt32 = 3
    /// Tensor data alignment unless `general.alignment` says otherwise.
    public static let defaultAlignment = 32
    public static let alignmentKey = "general.alignment"
}

/// The element encodings of ggml tensors. Only the ones ckpt writes or dequantizes have a
/// dtype; the others are named and sized so `inspect` can list any file.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let f32 = GGMLType(rawValue: 0)
    public static let f16 = GGMLType(rawValue: 1)
    public static let q8_0 = GGMLType(rawValue: 8)
    public static let bf16 = GGMLType(rawValue: 30)

    /// (name, elements per block, bytes per block) by code (ggml.c `type_traits`).
    static let traits: [UInt32: (name: String, block: Int, bytes: Int)] = [
        0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
        7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36), 10: ("Q2_K", 256, 84),
        11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210),
        15: ("Q8_K", 256, 292), 24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8),
        28: ("F64", 1, 8), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66),
    ]

    public var name: String { Self.traits[rawValue]?.name ?? "type \(rawValue)" }
    public var description: String { name }
    public var isKnown: Bool { Self.traits[rawValue] != nil }
    public var blockSize: Int { Self.traits[rawValue]?.block ?? 1 }

    /// Bytes of `count` elements, nil when the type is unknown, the count is not whole blocks,
    /// or the size overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard let t = Self.traits[rawValue], count >= 0, count % t.block == 0 else { return nil }
        let (p, o) = (count / t.block).multipliedReportingOverflow(by: t.bytes)
        return o ? nil : p
    }

    /// The dtype whose bytes are this type's bytes (F32, F16, BF16, I8...), nil for block types.
    public var plainDType: DType? {
        switch rawValue {
        case 0: return .float32
        case 1: return .float16
        case 30: return .bfloat16
        case 24: return .int8
        case 25: return .int16
        case 26: return .int32
        case 27: return .int64
        case 28: return .float64
        default: return nil
        }
    }
}

/// The value types of GGUF metadata (`GGUFValueType`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

    public var name: String { String(describing: self).uppercased() }

    /// Bytes of one scalar of this type; nil for strings and arrays.
    var scalarSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    public init?(name: String) {
        guard let t = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = t
    }
}
