import CkptCore

/// BERT, ALBERT(_Unshared), NEZHA, RoFormer, ELECTRA: BERT.apply_embeddings, post-norm layers,
/// BERT.apply_final_layers (pooler, NSP, MLM) and ELECTRA's discriminator.
extension ReferenceModel {
    func runEncoder(_ r: ForwardRequest) throws -> ForwardOutputs {
        var x = try embed(r.tokens, segments: r.segments)
        let allowed = Self.mask(tokens: r.tokens, application: r.application, segments: r.segments)
        let positions = try positionScheme()
        for i in 0..<layers {
            x = try layer(x, prefix: "encoder.layers.\(spec.sharedLayers ? 0 : i)", positions: positions, allowed: allowed)
        }
        var out = ForwardOutputs()
        out.add("hidden", x)
        var heads = r.heads
        if r.application != .encoder { heads.insert(.mlm) }
        if heads.contains(.pool) || heads.contains(.nsp) {
            var first = Matrix(rows: 1, cols: x.cols, data: Array(x.row(0)))
            first = first.matmul(try weights.matrix("pooler.weight"))
            first.addRow(try weights.vector("pooler.bias"))
            first.apply { Activation.tanh($0) }
            out.add("pooled", vector: first.data)
            if heads.contains(.nsp) {
                // heads.nsp.weight keeps TF's [2, hidden] orientation.
                var logits = first.matmul(try weights.matrix("heads.nsp.weight"), transposed: true)
                logits.addRow(try weights.vector("heads.nsp.bias"))
                out.add("nsp_probs", vector: softmax(logits).data)
            }
        }
        if heads.contains(.mlm) {
            var t = x.matmul(try weights.matrix("heads.mlm.dense.weight"))
            t.addRow(try weights.vector("heads.mlm.dense.bias"))
            let act = activations[0]
            t.apply { act($0) }
            t = try NormLayer.load(weights, prefix: "heads.mlm.norm", epsilon: 1e-12)(t)
            var logits = t.matmul(try weights.matrix("embeddings.token.weight"), transposed: true)
            logits.addRow(try weights.vector("heads.mlm.bias"))
            out.add("mlm_probs", softmax(logits))
        }
        if heads.contains(.discriminator) {
            var t = x.matmul(try weights.matrix("heads.discriminator.dense.weight"))
            t.addRow(try weights.vector("heads.discriminator.dense.bias"))
            let act = activations[0]
            t.apply { act($0) }
            var p = t.matmul(try weights.matrix("heads.discriminator.output.weight"))
            p.addRow(try weights.vector("heads.discriminator.output.bias"))
            p.apply { Activation.sigmoid($0) }
            out.add("discriminator_probs", p)
        }
        return out
    }
}

/// GPT, GPT2, GPT2_ML: causal language models with the token embedding tied as output (GPT.apply_final_layers).
extension ReferenceModel {
    func runDecoder(_ r: ForwardRequest) throws -> ForwardOutputs {
        var x = try embed(r.tokens, segments: r.segments)
        let allowed = Self.mask(tokens: r.tokens, application: .lm, segments: nil)
        for i in 0..<layers {
            x = try layer(x, prefix: "decoder.layers.\(i)", positions: .none, allowed: allowed)
        }
        if weights.has("decoder.norm.weight") {
            x = try NormLayer.load(weights, prefix: "decoder.norm", epsilon: spec.epsilon)(x)
        }
        var out = ForwardOutputs()
        out.add("hidden", x)
        out.add("lm_probs", softmax(x.matmul(try weights.matrix("embeddings.token.weight"), transposed: true)))
        return out
    }
}

/// T5 (T5_Encoder, T5_Decoder): RMS pre-norm, no biases, unscaled attention, bucketed relative
/// bias from block 0 shared by every layer; the decoder's cross-attention reuses the decoder's
/// own (unidirectional) bias table, as bert4keras builds it; output × hidden^-0.5 before the LM.
extension ReferenceModel {
    func runT5(_ r: ForwardRequest) throws -> ForwardOutputs {
        let eps = spec.epsilon
        let encTokens = r.tokens
        var c = try embed(encTokens, segments: nil)
        let encBias = try weights.matrix("encoder.layers.0.attention.relative_bias.weight")
        let encAllowed: (Int, Int) -> Bool = { _, k in encTokens[k] != 0 }
        for i in 0..<layers {
            let p = "encoder.layers.\(i)"
            let att = try AttentionLayer.load(weights, prefix: p + ".attention", heads: heads, keySize: nil, scale: false)
            let xn = try NormLayer.load(weights, prefix: p + ".attention.norm", epsilon: eps, rms: true)(c)
            c = c + att(xn, context: xn, positions: .buckets(bias: encBias, bidirectional: true), allowed: encAllowed)
            let ffn = try FeedForwardLayer.load(weights, prefix: p + ".ffn", activations: activations)
            c = c + ffn(try NormLayer.load(weights, prefix: p + ".ffn.norm", epsilon: eps, rms: true)(c))
        }
        c = try NormLayer.load(weights, prefix: "encoder.norm", epsilon: eps, rms: true)(c)
        var out = ForwardOutputs()
        out.add("encoder_hidden", c)
        guard let decTokens = r.decoderTokens else { return out }

        var y = try embed(decTokens, segments: nil)
        let decBias = try weights.matrix("decoder.layers.0.attention.relative_bias.weight")
        let selfAllowed: (Int, Int) -> Bool = { q, k in decTokens[k] != 0 && k <= q }
        for i in 0..<layers {
            let p = "decoder.layers.\(i)"
            let sa = try AttentionLayer.load(weights, prefix: p + ".attention", heads: heads, keySize: nil, scale: false)
            let yn = try NormLayer.load(weights, prefix: p + ".attention.norm", epsilon: eps, rms: true)(y)
            y = y + sa(yn, context: yn, positions: .buckets(bias: decBias, bidirectional: false), allowed: selfAllowed)
            let ca = try AttentionLayer.load(weights, prefix: p + ".cross_attention", heads: heads, keySize: nil, scale: false)
            let yc = try NormLayer.load(weights, prefix: p + ".cross_attention.norm", epsilon: eps, rms: true)(y)
            y = y + ca(yc, context: c, positions: .buckets(bias: decBias, bidirectional: false), allowed: encAllowed)
            let ffn = try FeedForwardLayer.load(weights, prefix: p + ".ffn", activations: activations)
            y = y + ffn(try NormLayer.load(weights, prefix: p + ".ffn.norm", epsilon: eps, rms: true)(y))
        }
        y = try NormLayer.load(weights, prefix: "decoder.norm", epsilon: eps, rms: true)(y)
        let scale = 1 / Float(y.cols).squareRoot()
        y.apply { $0 * scale }
        let logits = weights.has("lm_head.weight")
            ? y.matmul(try weights.matrix("lm_head.weight"))
            : y.matmul(try weights.matrix("embeddings.token.weight"), transposed: true)
        out.add("decoder_probs", softmax(logits))
        return out
    }
}
