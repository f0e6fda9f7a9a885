import CKernels

/// Conversions between the floating-point dtypes, element by element, IEEE round to nearest even
/// (NumPy's `astype` and ml_dtypes' bfloat16 cast round the same way).
public enum DTypeCast {
    public static func canCast(_ from: DType, to: DType) -> Bool {
        let floats: Set<DType> = [.float16, .bfloat16, .float32, .float64]
        return floats.contains(from) && floats.contains(to)
    }

    /// Converts `src` (count elements of `from`) into `dst` (count elements of `to`).
    public static func convert(
        _ src: UnsafeRawBufferPointer, from: DType, into dst: UnsafeMutableRawBufferPointer, to: DType
    ) {
        let n = src.count / from.itemSize!
        if from == to {
            dst.copyMemory(from: src)
            return
        }
        // The casts a conversion streams (whole tensors): 8 lanes at a time in C.
        if let kernel = kernel(from, to) {
            if n > 0 { kernel(src.baseAddress!, dst.baseAddress!, n) }
            return
        }
        let load: (Int) -> Float
        switch from {
        case .float32: let p = src.bindMemory(to: Float.self); load = { p[$0] }
        case .float16: let p = src.bindMemory(to: UInt16.self); load = { HalfPrecision.float16(p[$0]) }
        case .bfloat16: let p = src.bindMemory(to: UInt16.self); load = { HalfPrecision.bfloat16(p[$0]) }
        case .float64:
            // float64 → float16/bfloat16 goes through one rounding, from the double itself.
            let p = src.bindMemory(to: Double.self)
            switch to {
            case .float32: let q = dst.bindMemory(to: Float.self); for i in 0..<n { q[i] = Float(p[i]) }
            case .float16: let q = dst.bindMemory(to: UInt16.self); for i in 0..<n { q[i] = Float16(p[i]).bitPattern }
            case .bfloat16: let q = dst.bindMemory(to: UInt16.self); for i in 0..<n { q[i] = bfloat16(p[i]) }
            default: preconditionFailure("unsupported cast")
            }
            return
        default: preconditionFailure("unsupported cast")
        }
        switch to {
        case .float32: let q = dst.bindMemory(to: Float.self); for i in 0..<n { q[i] = load(i) }
        case .float64: let q = dst.bindMemory(to: Double.self); for i in 0..<n { q[i] = Double(load(i)) }
        case .float16: let q = dst.bindMemory(to: UInt16.self); for i in 0..<n { q[i] = Float16(load(i)).bitPattern }
        case .bfloat16: let q = dst.bindMemory(to: UInt16.self); for i in 0..<n { q[i] = bfloat16(load(i)) }
        default: preconditionFailure("unsupported cast")
        }
    }

    static func kernel(_ from: DType, _ to: DType) -> ((UnsafeRawPointer, UnsafeMutableRawPointer, Int) -> Void)? {
        switch (from, to) {
        case (.float32, .float16): return { ckpt_f32_to_f16($0, $1, $2) }
        case (.float16, .float32): return { ckpt_f16_to_f32($0, $1, $2) }
        case (.float32, .bfloat16): return { ckpt_f32_to_bf16($0, $1, $2) }
        case (.bfloat16, .float32): return { ckpt_bf16_to_f32($0, $1, $2) }
        default: return nil
        }
    }

    /// float32 → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN.
    @inline(__always) public static func bfloat16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7fff &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    /// float64 → bfloat16 with a single rounding: via float32 only when that is exact enough.
    @inline(__always) static func bfloat16(_ x: Double) -> UInt16 {
        if x.isNaN { return 0x7fc0 }
        // Round to float32 toward zero first (keeps a sticky bit), then round once to bfloat16.
        var f = Float(x)
        if Double(f) != x && abs(Double(f)) > abs(x) { f = f > 0 ? f.nextDown : f.nextUp }
        var bits = f.bitPattern
        if Double(f) != x { bits |= 1 }
        let rounded = bits &+ 0x7fff &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
