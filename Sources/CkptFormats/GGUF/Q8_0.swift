/// ggml's Q8_0 blocks: 32 elements as a float16 scale `d = max|x| / 127` and 32 int8 `round(x / d)`,
/// rounding halves away from zero (`roundf`), byte-identical to ggml's reference quantizer
/// (`quantize_row_q8_0_ref`) and gguf-py's `quants.Q8_0`: the quotient is taken as `x * (1/d)` in
/// float32 with the unrounded `d`, and only the stored scale is rounded to float16.
public enum Q8_0 {
    public static let blockSize = 32
    public static let blockBytes = 34

    /// Quantizes `src` (a whole number of blocks) into `dst` (`src.count / 32 * 34` bytes).
    public static func quantize(_ src: UnsafeBufferPointer<Float>, into dst: UnsafeMutableRawBufferPointer) {
        precondition(src.count % blockSize == 0 && dst.count == src.count / blockSize * blockBytes)
        for b in 0..<(src.count / blockSize) {
            let x = UnsafeBufferPointer(rebasing: src[(b * blockSize)..<((b + 1) * blockSize)])
            var amax: Float = 0
            for v in x { amax = max(amax, abs(v)) }
            let d = amax / 127
            let id: Float = d == 0 ? 0 : 1 / d
            let out = dst.baseAddress! + b * blockBytes
            out.storeBytes(of: Float16(d).bitPattern.littleEndian, as: UInt16.self)
            for i in 0..<blockSize {
                out.storeBytes(
                    of: Int8((x[i] * id).rounded(.toNearestOrAwayFromZero)), toByteOffset: 2 + i, as: Int8.self)
            }
        }
    }

    /// Expands `src` (whole blocks) into float32 `dst`: `d * q` in float32, as ggml dequantizes.
    public static func dequantize(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableBufferPointer<Float>) {
        precondition(src.count % blockBytes == 0 && dst.count == src.count / blockBytes * blockSize)
        for b in 0..<(src.count / blockBytes) {
            let d = Float(
                Float16(
                    bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: b * blockBytes, as: UInt16.self))
                ))
            for i in 0..<blockSize {
                let q = src.load(fromByteOffset: b * blockBytes + 2 + i, as: Int8.self)
                dst[b * blockSize + i] = Float(q) * d
            }
        }
    }
}
