import CkptCore
import Foundation

/// Position schemes that act inside attention (bert4keras backend.py, layers.py).
enum PositionScheme {
    case none
    /// NEZHA: `table[clip(k − q, −64, 64) + 64]` (rows of `keySize`) added to the query·key
    /// scores and to the attention output (RelativePositionEmbedding, p_bias 'typical_relative').
    case relative(table: Matrix)
    /// RoFormer: queries and keys rotated by position (apply_rotary_position_embeddings).
    case rotary
    /// T5: `bias[head][bucket(q, k)]` added to the scores (RelativePositionEmbeddingT5); the
    /// bucket count is the table's width.
    case buckets(bias: Matrix, bidirectional: Bool, maxDistance: Int)

    static let nezhaMaxRelative = 64

    /// sinusoidal_embeddings(pos, dim): row p = [sin(p·w₀), cos(p·w₀), sin(p·w₁), …], wᵢ = 10000^(−2i/dim).
    static func sinusoidal(positions: Int, dim: Int) -> Matrix {
        Matrix(rows: positions, cols: dim, data: SinusoidalTable.values(rows: positions, columns: dim))
    }

    /// NEZHA's table: 2·64+1 relative distances.
    static func nezhaTable(keySize: Int) -> Matrix {
        sinusoidal(positions: 2 * nezhaMaxRelative + 1, dim: keySize)
    }

    static func relativeIndex(query q: Int, key k: Int) -> Int {
        max(-nezhaMaxRelative, min(nezhaMaxRelative, k - q)) + nezhaMaxRelative
    }

    /// Rotates columns `start..<start+count` (one head) of each row of `x` by the row's position
    /// (`table`: `sinusoidal(positions: ≥ x.rows, dim: count)`).
    static func rotate(_ x: inout Matrix, columns start: Int, count d: Int, table: Matrix) {
        for p in 0..<x.rows {
            for i in 0..<(d / 2) {
                let s = table[p, 2 * i], c = table[p, 2 * i + 1]
                let a = x[p, start + 2 * i], b = x[p, start + 2 * i + 1]
                x[p, start + 2 * i] = a * c - b * s
                x[p, start + 2 * i + 1] = b * c + a * s
            }
        }
    }

    /// T5's bucket of relative position k − q (num_buckets 32, max_distance 128 by default), in
    /// float32 arithmetic like the TF original. Always in `0..<buckets` (for `buckets` ≥ 1), also
    /// for sizes no real model has: the result indexes the bias table without a further check.
    static func t5Bucket(query q: Int, key k: Int, bidirectional: Bool, buckets: Int = 32, maxDistance: Int = 128)
        -> Int
    {
        var n = q - k
        var numBuckets = buckets
        var ret = 0
        if bidirectional {
            numBuckets /= 2
            if n < 0 { ret += numBuckets }
            n = abs(n)
        } else {
            n = max(n, 0)
        }
        guard numBuckets >= 1 else { return 0 }
        let maxExact = numBuckets / 2
        if n < maxExact { return ret + n }
        // Degenerate sizes (no exact buckets, or a distance within them): everything is far.
        guard maxExact >= 1, maxDistance > maxExact else { return ret + numBuckets - 1 }
        let ratio = Float(log(Float(n) / Float(maxExact))) / Float(log(Float(maxDistance) / Float(maxExact)))
        let scaled = ratio * Float(numBuckets - maxExact)
        let large = scaled.isFinite ? maxExact + Int(min(max(scaled, 0), Float(numBuckets))) : numBuckets - 1
        return ret + min(large, numBuckets - 1)
    }
}
