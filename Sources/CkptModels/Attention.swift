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

    /// Asks for each weight with the shape the geometry gives it: `[hidden, heads·keySize]` for
    /// the query and key kernels, `[hidden, heads·headSize]` for the value, its transpose for the output.
    static func load(_ w: WeightStore, prefix: String, geometry g: ModelGeometry, scale: Bool) throws -> AttentionLayer
    {
        let qk = g.heads * g.keySize, vo = g.heads * g.headSize
        return AttentionLayer(
            query: try w.matrix(prefix + ".query.weight", rows: g.hidden, cols: qk),
            key: try w.matrix(prefix + ".key.weight", rows: g.hidden, cols: qk),
            value: try w.matrix(prefix + ".value.weight", rows: g.hidden, cols: vo),
            output: try w.matrix(prefix + ".output.weight", rows: vo, cols: g.hidden),
            queryBias: try w.optionalVector(prefix + ".query.bias", count: qk),
            keyBias: try w.optionalVector(prefix + ".key.bias", count: qk),
            valueBias: try w.optionalVector(prefix + ".value.bias", count: vo),
            outputBias: try w.optionalVector(prefix + ".output.bias", count: g.hidden),
            heads: g.heads, keySize: g.keySize, headSize: g.headSize, scale: scale)
    }

    /// The position terms that do not depend on the head, computed once per call: NEZHA's
    /// relative distance and T5's bucket of each (query, key), RoFormer's rotation table.
    func headContext(n: Int, m: Int, positions: PositionScheme) -> (HeadContext, Matrix?) {
        var relative: [Int32] = [], buckets: [Int32] = []
        var rotary: Matrix?
        switch positions {
        case .relative:
            relative = (0..<(n * m)).map { Int32(PositionScheme.relativeIndex(query: $0 / m, key: $0 % m)) }
        case .buckets(let bias, let bidirectional, let maxDistance):
            buckets = (0..<(n * m)).map {
                Int32(
                    PositionScheme.t5Bucket(
                        query: $0 / m, key: $0 % m, bidirectional: bidirectional, buckets: bias.cols,
                        maxDistance: maxDistance))
            }
        case .rotary:
            rotary = PositionScheme.sinusoidal(positions: max(n, m), dim: keySize)
        case .none:
            break
        }
        let head = HeadContext(
            n: n, m: m, keySize: keySize, headSize: headSize, factor: scale ? 1 / Float(keySize).squareRoot() : 1,
            positions: positions, relative: relative, buckets: buckets)
        return (head, rotary)
    }

    /// `x` attends to `context`; `allowed(q, k)` says which keys a query may see.
    ///
    /// The heads are split into one contiguous group per worker, and each worker runs its group
    /// from end to end — its columns of q, k and v, its heads' attention, and its rows' share of
    /// the output projection, a partial sum — with no synchronisation in between: one parallel
    /// region per attention instead of one per product. The partial sums are added at the end.
    func callAsFunction(_ x: Matrix, context: Matrix, positions: PositionScheme, allowed: (Int, Int) -> Bool) -> Matrix
    {
        let n = x.rows, m = context.rows
        var mask = [UInt8](repeating: 0, count: n * m)
        for j in 0..<n { for t in 0..<m where allowed(j, t) { mask[j * m + t] = 1 } }
        let (head, rotary) = headContext(n: n, m: m, positions: positions)
        let groups = Parallel.partition(heads, parts: Parallel.layerPieces)
        return Parallel.partialSums(groups.count, rows: n, projection: output, bias: outputBias) { g in
            let group = groups[g]
            let qCols = (group.lowerBound * keySize)..<(group.upperBound * keySize)
            let vCols = (group.lowerBound * headSize)..<(group.upperBound * headSize)
            var q = x.columnBlock(of: query, qCols, bias: queryBias),
                k = context.columnBlock(of: key, qCols, bias: keyBias)
            let v = context.columnBlock(of: value, vCols, bias: valueBias)
            if let rotary {
                for h in 0..<group.count {
                    PositionScheme.rotate(&q, columns: h * keySize, count: keySize, table: rotary)
                    PositionScheme.rotate(&k, columns: h * keySize, count: keySize, table: rotary)
                }
            }
            var merged = Matrix(uninitialized: n, vCols.count)
            var scores = [Float](unsafeUninitializedCapacity: n * m) { _, c in c = n * m }
            q.data.withUnsafeBufferPointer { qp in
                k.data.withUnsafeBufferPointer { kp in
                    v.data.withUnsafeBufferPointer { vp in
                        mask.withUnsafeBufferPointer { mp in
                            scores.withUnsafeMutableBufferPointer { sp in
                                merged.data.withUnsafeMutableBufferPointer { op in
                                    for (local, h) in group.enumerated() {
                                        head.run(
                                            h, q: qp.baseAddress! + local * keySize,
                                            k: kp.baseAddress! + local * keySize,
                                            v: vp.baseAddress! + local * headSize, qkStride: qCols.count,
                                            vStride: vCols.count,
                                            mask: mp.baseAddress!, scores: sp.baseAddress!,
                                            out: op.baseAddress! + local * headSize, outStride: vCols.count)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return (merged, vCols)
        }
    }
}

/// What every head of one attention call shares; `run` is one head's work, on the calling thread.
struct HeadContext {
    let n: Int, m: Int, keySize: Int, headSize: Int
    let factor: Float
    let positions: PositionScheme
    /// NEZHA: the relative-distance row of each (query, key); T5: the bucket of each.
    let relative: [Int32], buckets: [Int32]

    /// Head `h`, whose columns of q, k (row stride `qkStride`) and v (`vStride`) start at the
    /// given pointers, into its columns of `out`; `scores` is n × m scratch.
    func run(
        _ h: Int, q qh: UnsafePointer<Float>, k kh: UnsafePointer<Float>, v vh: UnsafePointer<Float>, qkStride: Int,
        vStride: Int,
        mask: UnsafePointer<UInt8>, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
        outStride: Int
    ) {
        BLAS.serialGemm(qh, kh, scores, m: n, n: m, k: keySize, transposeB: true, lda: qkStride, ldb: qkStride, ldc: m)
        var table: Matrix?
        switch positions {
        case .relative(let t):
            // q·table[r] for every query and distance (one product), then gathered per key.
            table = t
            var dots = [Float](unsafeUninitializedCapacity: n * t.rows) { _, c in c = n * t.rows }
            t.data.withUnsafeBufferPointer { tp in
                dots.withUnsafeMutableBufferPointer { dp in
                    BLAS.serialGemm(
                        qh, tp.baseAddress!, dp.baseAddress!, m: n, n: t.rows, k: keySize, transposeB: true,
                        lda: qkStride, ldb: t.cols, ldc: t.rows)
                }
            }
            for i in 0..<(n * m) { scores[i] += dots[(i / m) * t.rows + Int(relative[i])] }
        case .buckets(let bias, _, _):
            bias.data.withUnsafeBufferPointer { b in
                let row = b.baseAddress! + h * bias.cols
                for i in 0..<(n * m) { scores[i] += row[Int(buckets[i])] }
            }
        case .none, .rotary:
            break
        }
        ckpt_masked_softmax(scores, mask, n, m, factor)
        BLAS.serialGemm(scores, vh, out, m: n, n: headSize, k: m, lda: m, ldb: vStride, ldc: outStride)
        if let table {
            // NEZHA's value term: Σₜ a[j,t]·table[r(j,t)] = (a summed per distance) · table.
            var weights = [Float](repeating: 0, count: n * table.rows)
            for i in 0..<(n * m) { weights[(i / m) * table.rows + Int(relative[i])] += scores[i] }
            weights.withUnsafeBufferPointer { w in
                table.data.withUnsafeBufferPointer { tp in
                    BLAS.serialGemm(
                        w.baseAddress!, tp.baseAddress!, out, m: n, n: headSize, k: table.rows, beta: 1,
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

    /// `[hidden, intermediate]` in (and the gate), `[intermediate, hidden]` out.
    static func load(_ w: WeightStore, prefix: String, geometry g: ModelGeometry) throws -> FeedForwardLayer {
        let gated = w.has(prefix + ".gate.weight")
        return FeedForwardLayer(
            intermediate: try w.matrix(prefix + ".intermediate.weight", rows: g.hidden, cols: g.intermediate),
            intermediateBias: try w.optionalVector(prefix + ".intermediate.bias", count: g.intermediate),
            gate: gated ? try w.matrix(prefix + ".gate.weight", rows: g.hidden, cols: g.intermediate) : nil,
            output: try w.matrix(prefix + ".output.weight", rows: g.intermediate, cols: g.hidden),
            outputBias: try w.optionalVector(prefix + ".output.bias", count: g.hidden),
            activations: g.activations)
    }

    /// Split like attention: each worker takes a block of the intermediate columns, applies the
    /// activation to it and multiplies it by its rows of the output kernel (a partial sum).
    func callAsFunction(_ x: Matrix) -> Matrix {
        let width = intermediate.cols
        let blocks = Parallel.partition(width, parts: Parallel.layerPieces, align: 16)
        return Parallel.partialSums(blocks.count, rows: x.rows, projection: output, bias: outputBias) { b in
            let cols = blocks[b]
            var h: Matrix
            if let gate {
                // T5.1.1: act₀(x·wi_0) · act₁(x·wi_1); canonical `gate` is wi_0.
                h = x.columnBlock(of: gate, cols, bias: nil)
                var linear = x.columnBlock(of: intermediate, cols, bias: intermediateBias)
                h.apply(activations[0], parallel: false)
                linear.apply(activations.count > 1 ? activations[1] : .linear, parallel: false)
                h.data.withUnsafeMutableBufferPointer { hp in
                    linear.data.withUnsafeBufferPointer { lp in for i in 0..<hp.count { hp[i] *= lp[i] } }
                }
            } else {
                h = x.columnBlock(of: intermediate, cols, bias: intermediateBias)
                h.apply(activations[0], parallel: false)
            }
            return (h, cols)
        }
    }
}

/// A LayerNormalization's weights.
struct NormLayer {
    let gamma: [Float]
    let beta: [Float]?
    let epsilon: Float
    let zeroMean: Bool

    static func load(_ w: WeightStore, prefix: String, size: Int, epsilon: Float, rms: Bool = false) throws -> NormLayer
    {
        NormLayer(
            gamma: try w.vector(prefix + ".weight", count: size),
            beta: try w.optionalVector(prefix + ".bias", count: size),
            epsilon: epsilon, zeroMean: !rms)
    }

    /// The norm of `x` (+ `residual`: the sum is formed in the same pass).
    func callAsFunction(_ x: consuming Matrix, residual: Matrix? = nil) -> Matrix {
        Normalize.layerNorm(x, residual: residual, gamma: gamma, beta: beta, epsilon: epsilon, zeroMean: zeroMean)
    }
}
