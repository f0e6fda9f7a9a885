import Foundation

/// The sinusoidal position table of bert4keras (backend.py `sinusoidal_embeddings`): row p is
/// [sin(p·w₀), cos(p·w₀), sin(p·w₁), cos(p·w₁), …] with wᵢ = 10000^(−2i/columns), in float32 as
/// TensorFlow computes it (the frequency in float32, then the product, then sin/cos).
public enum SinusoidalTable {
    public static func values(rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        for i in 0..<(columns / 2) {
            let w = Float(pow(10000.0, -2.0 * Double(i) / Double(columns)))
            for p in 0..<rows {
                let angle = Float(p) * w
                out[p * columns + 2 * i] = sin(angle)
                out[p * columns + 2 * i + 1] = cos(angle)
            }
        }
        return out
    }
}

extension SinusoidalTable {
    /// transformers' table (RoFormerSinusoidalPositionalEmbedding): row p is
    /// [sin(p·w₀), sin(p·w₁), …, cos(p·w₀), cos(p·w₁), …] with wᵢ = 10000^(−2i/columns), computed in
    /// float64 as NumPy does and rounded to float32.
    public static func halves(rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        let sines = (columns + 1) / 2
        for j in 0..<columns {
            let w = pow(10000.0, 2.0 * Double(j / 2) / Double(columns))
            let column = j % 2 == 0 ? j / 2 : sines + j / 2
            for p in 0..<rows {
                let angle = Double(p) / w
                out[p * columns + column] = Float(j % 2 == 0 ? sin(angle) : cos(angle))
            }
        }
        return out
    }
}
