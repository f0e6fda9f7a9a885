/// Element types, named as NumPy names them (`float32`, `bfloat16`, `int64`, `string`...).
/// Each format's own codes (TensorFlow DataType numbers, safetensors strings, NumPy `descr`) map
/// through the tables below, not through `switch`es spread over the readers.
public enum DType: String, CaseIterable, Sendable, Codable {
    case float16, bfloat16, float32, float64
    case float8_e4m3fn, float8_e5m2
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case bool
    case complex64, complex128
    /// Variable-length byte strings (TensorFlow DT_STRING); no fixed element size.
    case string

    /// Bytes per element; nil for `string`.
    public var itemSize: Int? {
        switch self {
        case .bool, .int8, .uint8, .float8_e4m3fn, .float8_e5m2: return 1
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64, .complex64: return 8
        case .complex128: return 16
        case .string: return nil
        }
    }

    /// Real floating-point types, the ones `--stats` summarizes.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64, .float8_e4m3fn, .float8_e5m2: return true
        default: return false
        }
    }
}

extension DType {
    /// TensorFlow `DataType` numbers (tensorflow/core/framework/types.proto).
    public static let tensorFlowCodes: [Int32: DType] = [
        1: .float32, 2: .float64, 3: .int32, 4: .uint8, 5: .int16, 6: .int8, 7: .string,
        8: .complex64, 9: .int64, 10: .bool, 14: .bfloat16, 17: .uint16, 18: .complex128,
        19: .float16, 22: .uint32, 23: .uint64,
    ]

    /// safetensors dtype strings (huggingface/safetensors `Dtype`).
    public static let safetensorsCodes: [String: DType] = [
        "BOOL": .bool, "U8": .uint8, "I8": .int8, "I16": .int16, "U16": .uint16, "F16": .float16,
        "BF16": .bfloat16, "I32": .int32, "U32": .uint32, "F32": .float32, "F64": .float64,
        "I64": .int64, "U64": .uint64, "F8_E4M3": .float8_e4m3fn, "F8_E5M2": .float8_e5m2,
        "C64": .complex64,
    ]

    public var tensorFlowCode: Int32? { Self.tensorFlowCodes.first { $0.value == self }?.key }
    public var safetensorsCode: String? { Self.safetensorsCodes.first { $0.value == self }?.key }
}
