/// A tensor's values as numbers, for people (`inspect --tensor --values`): floating types widened
/// to Double, integers and booleans as Int, complex numbers as their (real, imaginary) parts.
public enum TensorValues {
    public enum Value: Sendable, Equatable {
        case real(Double)
        case integer(Int)
        /// uint64 values above Int.max.
        case unsigned(UInt64)
    }

    /// The first `limit` values of `bytes` read as `dtype` (all of them when nil), in C order.
    public static func decode(_ bytes: UnsafeRawBufferPointer, dtype: DType, limit: Int?) -> [Value] {
        guard let size = dtype.itemSize, size > 0 else { return [] }
        let count = bytes.count / size
        let n = min(count * (dtype == .complex64 || dtype == .complex128 ? 2 : 1), limit ?? Int.max)
        return (0..<n).map { value(bytes, dtype: dtype, index: $0) }
    }

    static func value(_ b: UnsafeRawBufferPointer, dtype: DType, index i: Int) -> Value {
        func load<T>(_ t: T.Type, _ k: Int) -> T {
            b.loadUnaligned(fromByteOffset: k * MemoryLayout<T>.size, as: T.self)
        }
        switch dtype {
        case .float32: return .real(Double(load(Float.self, i)))
        case .float64: return .real(load(Double.self, i))
        case .float16: return .real(Double(HalfPrecision.float16(load(UInt16.self, i))))
        case .bfloat16: return .real(Double(HalfPrecision.bfloat16(load(UInt16.self, i))))
        case .float8_e4m3fn: return .real(Double(HalfPrecision.float8E4M3FN(load(UInt8.self, i))))
        case .float8_e5m2: return .real(Double(HalfPrecision.float8E5M2(load(UInt8.self, i))))
        case .complex64: return .real(Double(load(Float.self, i)))  // real, imaginary, real...
        case .complex128: return .real(load(Double.self, i))
        case .int8: return .integer(Int(load(Int8.self, i)))
        case .int16: return .integer(Int(load(Int16.self, i)))
        case .int32: return .integer(Int(load(Int32.self, i)))
        case .int64: return .integer(Int(load(Int64.self, i)))
        case .uint8, .bool: return .integer(Int(load(UInt8.self, i)))
        case .uint16: return .integer(Int(load(UInt16.self, i)))
        case .uint32: return .integer(Int(load(UInt32.self, i)))
        case .uint64:
            let u = load(UInt64.self, i)
            return u <= UInt64(Int.max) ? .integer(Int(u)) : .unsigned(u)
        case .string: return .integer(0)
        }
    }
}
