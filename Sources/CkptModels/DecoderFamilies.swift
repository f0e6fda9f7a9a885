import CkptCore

/// GPT, GPT2, GPT2_ML: causal language models with the token embedding tied as output (GPT.apply_final_layers).
extension ReferenceModel {
    func runDecoder(_ r: ForwardRequest) throws -> ForwardOutputs {
        var x = try embed(r.tokens, segments: r.segments)
        let allowed = Self.mask(tokens: r.tokens, application: .lm, segments: nil)
        for i in 0..<layers {
            x = try layer(x, prefix: "decoder.layers.\(i)", positions: .none, allowed: allowed)
        }
        if weights.has("decoder.norm.weight") {
            x = try NormLayer.load(weights, prefix: "decoder.norm", size: geometry.hidden, epsilon: spec.epsilon)(x)
        }
        var out = ForwardOutputs()
        out.add("hidden", x)
        out.add(
            "lm_probs",
            softmax(
                x.matmul(
                    try weights.matrix("embeddings.token.weight", rows: geometry.vocab, cols: geometry.hidden),
                    transposed: true)))
        return out
    }
}
