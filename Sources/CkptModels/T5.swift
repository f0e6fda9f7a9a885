import CkptCore

/// T5 (T5_Encoder, T5_Decoder): RMS pre-norm, no biases, unscaled attention, bucketed relative
/// bias from block 0 shared by every layer. bert4keras' decoder (the default) also adds its own
/// unidirectional bias table to cross-attention and scales the output by hidden^-0.5 before the
/// LM; transformers' adds no bias there and scales only a tied LM head (`T5Convention`).
extension ReferenceModel {
    func runT5(_ r: ForwardRequest) throws -> ForwardOutputs {
        let encTokens = r.tokens
        let encPadding = Self.paddingMask(encTokens)
        let encAllowed: (Int, Int) -> Bool = { _, k in encPadding[k] }
        let encBias = try relativeBias("encoder", bidirectional: true)
        var c = try embed(encTokens, segments: nil)
        for i in 0..<layers {
            let p = "encoder.layers.\(i)"
            c = try t5Residual(c, p + ".attention.norm") {
                try t5Attention(p + ".attention")($0, context: $0, positions: encBias, allowed: encAllowed)
            }
            c = try t5Residual(c, p + ".ffn.norm") {
                try FeedForwardLayer.load(weights, prefix: p + ".ffn", geometry: geometry)($0)
            }
        }
        c = try t5Norm("encoder.norm")(c)
        var out = ForwardOutputs()
        out.add("encoder_hidden", c)
        guard let decTokens = r.decoderTokens else { return out }

        let convention = r.t5Convention ?? t5Convention
        let selfAllowed = Self.mask(tokens: decTokens, application: .lm, segments: nil)
        let decBias = try relativeBias("decoder", bidirectional: false)
        let crossBias = convention == .bert4keras ? decBias : .none
        let context = c
        var y = try embed(decTokens, segments: nil)
        for i in 0..<layers {
            let p = "decoder.layers.\(i)"
            y = try t5Residual(y, p + ".attention.norm") {
                try t5Attention(p + ".attention")($0, context: $0, positions: decBias, allowed: selfAllowed)
            }
            y = try t5Residual(y, p + ".cross_attention.norm") {
                try t5Attention(p + ".cross_attention")($0, context: context, positions: crossBias, allowed: encAllowed)
            }
            y = try t5Residual(y, p + ".ffn.norm") {
                try FeedForwardLayer.load(weights, prefix: p + ".ffn", geometry: geometry)($0)
            }
        }
        y = try t5Norm("decoder.norm")(y)
        out.add("decoder_hidden", y)
        if convention == .bert4keras || !weights.has("lm_head.weight") {
            let scale = 1 / Float(y.cols).squareRoot()
            y.apply { $0 * scale }
        }
        let (h, v) = (geometry.hidden, geometry.vocab)
        let logits =
            weights.has("lm_head.weight")
            ? y.matmul(try weights.matrix("lm_head.weight", rows: h, cols: v))
            : y.matmul(try weights.matrix("embeddings.token.weight", rows: v, cols: h), transposed: true)
        out.add("decoder_probs", softmax(logits))
        return out
    }

    /// `x + f(RMSNorm(x))`: every T5 sub-layer.
    private func t5Residual(_ x: Matrix, _ norm: String, _ f: (Matrix) throws -> Matrix) throws -> Matrix {
        x + (try f(try t5Norm(norm)(x)))
    }

    private func t5Norm(_ prefix: String) throws -> NormLayer {
        try NormLayer.load(weights, prefix: prefix, size: geometry.hidden, epsilon: spec.epsilon, rms: true)
    }

    private func t5Attention(_ prefix: String) throws -> AttentionLayer {
        try AttentionLayer.load(weights, prefix: prefix, geometry: geometry, scale: false)
    }

    /// Block 0's `[heads, buckets]` table; every bucket index `PositionScheme.t5Bucket` gives
    /// is below `buckets`, so reading the row of a head never leaves it.
    private func relativeBias(_ stack: String, bidirectional: Bool) throws -> PositionScheme {
        let buckets = geometry.buckets ?? 32
        let bias = try weights.matrix("\(stack).layers.0.attention.relative_bias.weight", rows: heads, cols: buckets)
        return .buckets(bias: bias, bidirectional: bidirectional, maxDistance: geometry.maxDistance ?? 128)
    }
}
