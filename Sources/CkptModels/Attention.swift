import Foundation

/// Multi-head attention as bert4keras' MultiHeadAttention computes it (layers.py,
/// `pay_attention_to`): scores q·k (+ position terms), scaled by 1/√key_size when
/// `attention_scale`, masked to −∞ where not allowed, softmax, times v (+ position term), o_dense.
struct AttentionLayer {
    let query: Matrix, key: Matrix, value: Matrix, output: Matrix
    let queryBias: [Float]?, keyBias: [Float]?, valueBias: [Float]?, outputBias: [Float]?
    let heads: Int
    let keySize: Int
    let headSize: Int
    let scale: Bool

    static func load(_ w: WeightStore, prefix: String, heads: Int, keySize: Int?, scale: Bool) throws -> AttentionLayer {
        let q = try w.matrix(prefix + ".query.weight")
        let ks = keySize ?? q.cols / heads
        return AttentionLayer(
            query: q, key: try w.matrix(prefix + ".key.weight"), value: try w.matrix(prefix + ".value.weight"),
            output: try w.matrix(prefix + ".output.weight"),
            queryBias: try w.optionalVector(prefix + ".query.bias"), keyBias: try w.optionalVector(prefix + ".key.bias"),
            valueBias: try w.optionalVector(prefix + ".value.bias"), outputBias: try w.optionalVector(prefix + ".output.bias"),
            heads: heads, keySize: ks, headSize: try w.matrix(prefix + ".value.weight").cols / heads, scale: scale)
    }

    /// `x` attends to `context`; `allowed(q, k)` says which keys a query may see.
    func callAsFunction(_ x: Matrix, context: Matrix, positions: PositionScheme, allowed: (Int, Int) -> Bool) -> Matrix {
        var q = x.matmul(query), k = context.matmul(key), v = context.matmul(value)
        if let queryBias { q.addRow(queryBias) }
        if let keyBias { k.addRow(keyBias) }
        if let valueBias { v.addRow(valueBias) }
        if case .rotary = positions {
            for h in 0..<heads {
                PositionScheme.rotate(&q, columns: h * keySize, count: keySize)
                PositionScheme.rotate(&k, columns: h * keySize, count: keySize)
            }
        }
        let n = x.rows, m = context.rows
        var merged = Matrix(uninitialized: n, heads * headSize)
        var scores = Matrix(uninitialized: n, m)
        let factor = scale ? 1 / Float(keySize).squareRoot() : 1
        var allowedMask = [Bool](repeating: false, count: n * m)
        for j in 0..<n { for t in 0..<m { allowedMask[j * m + t] = allowed(j, t) } }
        for h in 0..<heads {
            // Scores of head h straight from the q and k buffers (strided: no per-head copies).
            q.data.withUnsafeBufferPointer { qp in
                k.data.withUnsafeBufferPointer { kp in
                    scores.data.withUnsafeMutableBufferPointer { sp in
                        BLAS.gemm(qp.baseAddress! + h * keySize, kp.baseAddress! + h * keySize, sp.baseAddress!,
                                  m: n, n: m, k: keySize, transposeB: true, lda: q.cols, ldb: k.cols, ldc: m)
                    }
                }
            }
            switch positions {
            case .relative(let table):
                for j in 0..<n { for t in 0..<m {
                    let r = PositionScheme.relativeIndex(query: j, key: t)
                    var dot: Float = 0
                    for d in 0..<keySize { dot += q[j, h * keySize + d] * table[r, d] }
                    scores[j, t] += dot
                } }
            case .buckets(let bias, let bidirectional):
                for j in 0..<n { for t in 0..<m {
                    scores[j, t] += bias[h, PositionScheme.t5Bucket(query: j, key: t, bidirectional: bidirectional)]
                } }
            case .none, .rotary:
                break
            }
            for i in 0..<(n * m) {
                scores.data[i] = allowedMask[i] ? scores.data[i] * factor : -.infinity
            }
            Normalize.softmaxRows(&scores)
            // Output of head h written into its columns of the merged buffer.
            scores.data.withUnsafeBufferPointer { sp in
                v.data.withUnsafeBufferPointer { vp in
                    merged.data.withUnsafeMutableBufferPointer { op in
                        BLAS.gemm(sp.baseAddress!, vp.baseAddress! + h * headSize, op.baseAddress! + h * headSize,
                                  m: n, n: headSize, k: m, lda: m, ldb: v.cols, ldc: merged.cols)
                    }
                }
            }
            if case .relative(let table) = positions {
                for j in 0..<n { for t in 0..<m {
                    let a = scores[j, t]
                    guard a != 0 else { continue }
                    let r = PositionScheme.relativeIndex(query: j, key: t)
                    for d in 0..<headSize { merged[j, h * headSize + d] += a * table[r, d] }
                } }
            }
        }
        var out = merged.matmul(output)
        if let outputBias { out.addRow(outputBias) }
        return out
    }
}

/// FeedForward (layers.py): dense(act₀) [× dense(act₁) for gated], then the output dense.
struct FeedForwardLayer {
    let intermediate: Matrix, intermediateBias: [Float]?
    let gate: Matrix?
    let output: Matrix, outputBias: [Float]?
    let activations: [Activation]

    static func load(_ w: WeightStore, prefix: String, activations: [Activation]) throws -> FeedForwardLayer {
        let gated = w.has(prefix + ".gate.weight")
        return FeedForwardLayer(
            intermediate: try w.matrix(prefix + ".intermediate.weight"), intermediateBias: try w.optionalVector(prefix + ".intermediate.bias"),
            gate: gated ? try w.matrix(prefix + ".gate.weight") : nil,
            output: try w.matrix(prefix + ".output.weight"), outputBias: try w.optionalVector(prefix + ".output.bias"),
            activations: activations)
    }

    func callAsFunction(_ x: Matrix) -> Matrix {
        var h: Matrix
        if let gate {
            // T5.1.1: act₀(x·wi_0) · act₁(x·wi_1); canonical `gate` is wi_0.
            var a = x.matmul(gate), b = x.matmul(intermediate)
            let act0 = activations[0], act1 = activations.count > 1 ? activations[1] : .linear
            a.apply { act0($0) }
            b.apply { act1($0) }
            for i in a.data.indices { a.data[i] *= b.data[i] }
            h = a
        } else {
            h = x.matmul(intermediate)
            let act = activations[0]
            h.biasAndApply(intermediateBias) { act($0) }
        }
        var out = h.matmul(output)
        if let outputBias { out.addRow(outputBias) }
        return out
    }
}

/// A LayerNormalization's weights.
struct NormLayer {
    let gamma: [Float]
    let beta: [Float]?
    let epsilon: Float
    let zeroMean: Bool

    static func load(_ w: WeightStore, prefix: String, epsilon: Float, rms: Bool = false) throws -> NormLayer {
        NormLayer(gamma: try w.vector(prefix + ".weight"), beta: try w.optionalVector(prefix + ".bias"), epsilon: epsilon, zeroMean: !rms)
    }

    func callAsFunction(_ x: Matrix) -> Matrix {
        Normalize.layerNorm(x, gamma: gamma, beta: beta, epsilon: epsilon, zeroMean: zeroMean)
    }
}
