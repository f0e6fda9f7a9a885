/// Summary of a floating-point tensor's values, computed in one pass over its bytes.
/// NaN and ±Inf are counted and left out of min/max/mean/std.
public struct TensorStatistics: Sendable, Equatable {
    public var count = 0
    public var finiteCount = 0
    public var nanCount = 0
    public var infCount = 0
    public var min = Double.infinity
    public var max = -Double.infinity
    private var mean_ = 0.0
    private var m2 = 0.0

    public init() {}

    public var mean: Double? { finiteCount > 0 ? mean_ : nil }
    /// Population standard deviation (NumPy's `std` default, ddof=0).
    public var std: Double? { finiteCount > 0 ? (m2 / Double(finiteCount)).squareRoot() : nil }

    /// Statistics of `bytes` read as `dtype`; nil for non-floating types.
    public static func of(_ bytes: UnsafeRawBufferPointer, dtype: DType) -> TensorStatistics? {
        var s = TensorStatistics()
        switch dtype {
        case .float32:
            s.accumulate(bytes.bindMemory(to: Float.self).lazy.map(Double.init))
        case .float64:
            s.accumulate(bytes.bindMemory(to: Double.self))
        case .float16:
            s.accumulate(bytes.bindMemory(to: UInt16.self).lazy.map { Double(HalfPrecision.float16($0)) })
        case .bfloat16:
            s.accumulate(bytes.bindMemory(to: UInt16.self).lazy.map { Double(HalfPrecision.bfloat16($0)) })
        case .float8_e4m3fn:
            s.accumulate(bytes.bindMemory(to: UInt8.self).lazy.map { Double(HalfPrecision.float8E4M3FN($0)) })
        case .float8_e5m2:
            s.accumulate(bytes.bindMemory(to: UInt8.self).lazy.map { Double(HalfPrecision.float8E5M2($0)) })
        default:
            return nil
        }
        return s
    }

    /// Welford's update in blocks: a running sum per block keeps the inner loop free of divisions.
    private mutating func accumulate<S: Sequence>(_ values: S) where S.Element == Double {
        var blockSum = 0.0, blockN = 0
        var blockValues: [Double] = []
        blockValues.reserveCapacity(4096)
        func flush() {
            guard blockN > 0 else { return }
            let bMean = blockSum / Double(blockN)
            var bM2 = 0.0
            for v in blockValues { let d = v - bMean; bM2 += d * d }
            // Chan et al.'s parallel combination of (n, mean, M2).
            let n = Double(finiteCount), bn = Double(blockN)
            let delta = bMean - mean_
            let total = n + bn
            mean_ += delta * bn / total
            m2 += bM2 + delta * delta * n * bn / total
            finiteCount += blockN
            blockSum = 0; blockN = 0
            blockValues.removeAll(keepingCapacity: true)
        }
        for v in values {
            count += 1
            if v.isNaN { nanCount += 1; continue }
            if v.isInfinite { infCount += 1; continue }
            if v < min { min = v }
            if v > max { max = v }
            blockSum += v
            blockN += 1
            blockValues.append(v)
            if blockN == 4096 { flush() }
        }
        flush()
    }
}

/// Widening of the 16- and 8-bit float formats to Float, bit-exact.
public enum HalfPrecision {
    /// bfloat16 is the top half of a float32.
    @inline(__always) public static func bfloat16(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// IEEE 754 binary16.
    @inline(__always) public static func float16(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exp = Int((bits >> 10) & 0x1f)
        let frac = UInt32(bits & 0x3ff)
        if exp == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (frac << 13)) }
        if exp == 0 {
            let v = Float(frac) * 0x1p-24
            return sign != 0 ? -v : v
        }
        return Float(bitPattern: sign | (UInt32(exp - 15 + 127) << 23) | (frac << 13))
    }

    /// OCP FP8 E4M3FN: no infinities, NaN is S.1111.111.
    public static func float8E4M3FN(_ b: UInt8) -> Float {
        let sign: Float = b & 0x80 != 0 ? -1 : 1
        let exp = Int((b >> 3) & 0xf), frac = Float(b & 0x7)
        if exp == 0xf && b & 0x7 == 0x7 { return .nan }
        if exp == 0 { return sign * frac / 8 * 0x1p-6 }
        return sign * (1 + frac / 8) * Float(sign: .plus, exponent: exp - 7, significand: 1)
    }

    /// OCP FP8 E5M2: binary16 with the low 8 mantissa bits cut.
    public static func float8E5M2(_ b: UInt8) -> Float { float16(UInt16(b) << 8) }
}
