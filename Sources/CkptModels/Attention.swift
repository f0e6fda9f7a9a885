import CKernels
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

    /// `x` attends to `context`; `allowed(q, k)` says which keys a query may see. The heads run
    /// in parallel, each on its own block of scores, written into its own columns of the output.
    func callAsFunction(_ x: Matrix, context: Matrix, positions: PositionScheme, allowed: (Int, Int) -> Bool) -> Matrix {
        var q = x.matmul(query, bias: queryBias), k = context.matmul(key, bias: keyBias)
        let v = context.matmul(value, bias: valueBias)
        if case .rotary = positions {
            for h in 0..<heads {
                PositionScheme.rotate(&q, columns: h * keySize, count: keySize)
                PositionScheme.rotate(&k, columns: h * keySize, count: keySize)
            }
        }
        let n = x.rows, m = context.rows
        var merged = Matrix(uninitialized: n, heads * headSize)
        var mask = [UInt8](repeating: 0, count: n * m)
        for j in 0..<n { for t in 0..<m where allowed(j, t) { mask[j * m + t] = 1 } }
        // Position terms that do not depend on the head, computed once.
        var relative: [Int32] = [], buckets: [Int32] = []
        switch positions {
        case .relative:
            relative = (0..<(n * m)).map { Int32(PositionScheme.relativeIndex(query: $0 / m, key: $0 % m)) }
        case .buckets(_, let bidirectional):
            buckets = (0..<(n * m)).map { Int32(PositionScheme.t5Bucket(query: $0 / m, key: $0 % m, bidirectional: bidirectional)) }
        case .none, .rotary:
            break
        }
        let head = HeadContext(n: n, m: m, keySize: keySize, headSize: headSize, factor: scale ? 1 / Float(keySize).squareRoot() : 1,
                               positions: positions, relative: relative, buckets: buckets)
        var scores = [Float](unsafeUninitializedCapacity: heads * n * m) { _, c in c = heads * n * m }
        q.data.withUnsafeBufferPointer { qp in
            k.data.withUnsafeBufferPointer { kp in
                v.data.withUnsafeBufferPointer { vp in
                    mask.withUnsafeBufferPointer { mp in
                        scores.withUnsafeMutableBufferPointer { sp in
                            merged.data.withUnsafeMutableBufferPointer { op in
                                let q = Strided(base: qp.baseAddress!, stride: q.cols), k = Strided(base: kp.baseAddress!, stride: k.cols)
                                let v = Strided(base: vp.baseAddress!, stride: v.cols), o = op.baseAddress!, oStride = merged.cols
                                let s = sp.baseAddress!, mask = mp.baseAddress!
                                Parallel.forEach(heads) { h in
                                    head.run(h, q: q, k: k, v: v, mask: mask, scores: s + h * n * m,
                                             out: o + h * headSize, outStride: oStride)
                                }
                            }
                        }
                    }
                }
            }
        }
        return merged.matmul(output, bias: outputBias)
    }
}

/// A row-major buffer read with a row stride (one head's columns of q, k or v).
struct Strided {
    let base: UnsafePointer<Float>
    let stride: Int
}

/// What every head of one attention call shares; `run` is one head's work, on the calling thread.
struct HeadContext {
    let n: Int, m: Int, keySize: Int, headSize: Int
    let factor: Float
    let positions: PositionScheme
    /// NEZHA: the relative-distance row of each (query, key); T5: the bucket of each.
    let relative: [Int32], buckets: [Int32]

    func run(_ h: Int, q: Strided, k: Strided, v: Strided, mask: UnsafePointer<UInt8>, scores: UnsafeMutablePointer<Float>,
             out: UnsafeMutablePointer<Float>, outStride: Int) {
        let qh = q.base + h * keySize, kh = k.base + h * keySize, vh = v.base + h * headSize
        BLAS.serialGemm(qh, kh, scores, m: n, n: m, k: keySize, transposeB: true, lda: q.stride, ldb: k.stride, ldc: m)
        var table: Matrix?
        switch positions {
        case .relative(let t):
            // q·table[r] for every query and distance (one product), then gathered per key.
            table = t
            var dots = [Float](unsafeUninitializedCapacity: n * t.rows) { _, c in c = n * t.rows }
            t.data.withUnsafeBufferPointer { tp in
                dots.withUnsafeMutableBufferPointer { dp in
                    BLAS.serialGemm(qh, tp.baseAddress!, dp.baseAddress!, m: n, n: t.rows, k: keySize, transposeB: true,
                                    lda: q.stride, ldb: t.cols, ldc: t.rows)
                }
            }
            for i in 0..<(n * m) { scores[i] += dots[(i / m) * t.rows + Int(relative[i])] }
        case .buckets(let bias, _):
            bias.data.withUnsafeBufferPointer { b in
                let row = b.baseAddress! + h * bias.cols
                for i in 0..<(n * m) { scores[i] += row[Int(buckets[i])] }
            }
        case .none, .rotary:
            break
        }
        ckpt_masked_softmax(scores, mask, n, m, factor)
        BLAS.serialGemm(scores, vh, out, m: n, n: headSize, k: m, lda: m, ldb: v.stride, ldc: outStride)
        if let table {
            // NEZHA's value term: Σₜ a[j,t]·table[r(j,t)] = (a summed per distance) · table.
            var weights = [Float](repeating: 0, count: n * table.rows)
            for i in 0..<(n * m) { weights[(i / m) * table.rows + Int(relative[i])] += scores[i] }
            weights.withUnsafeBufferPointer { w in
                table.data.withUnsafeBufferPointer { tp in
                    BLAS.serialGemm(w.baseAddress!, tp.baseAddress!, out, m: n, n: headSize, k: table.rows, beta: 1,
                                    lda: table.rows, ldb: table.cols, ldc: outStride)
                }
            }
        }
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
            h = x.matmul(intermediate, bias: intermediateBias)
            h.apply(activations[0])
        }
        return h.matmul(output, bias: outputBias)
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

    /// The norm of `x` (+ `residual`: the sum is formed in the same pass).
    func callAsFunction(_ x: consuming Matrix, residual: Matrix? = nil) -> Matrix {
        Normalize.layerNorm(x, residual: residual, gamma: gamma, beta: beta, epsilon: epsilon, zeroMean: zeroMean)
    }
}
