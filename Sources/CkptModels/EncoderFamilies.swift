import CkptCore

/// BERT, ALBERT(_Unshared), NEZHA, RoFormer, ELECTRA: BERT.apply_embeddings, post-norm layers,
/// BERT.apply_final_layers (pooler, NSP, MLM) and ELECTRA's discriminator.
extension ReferenceModel {
    func runEncoder(_ r: ForwardRequest) throws -> ForwardOutputs {
        var x = try embed(r.tokens, segments: r.segments)
        let allowed = Self.mask(tokens: r.tokens, application: r.application, segments: r.segments)
        let positions = try positionScheme()
        for i in 0..<layers {
            x = try layer(
                x, prefix: "encoder.layers.\(spec.sharedLayers ? 0 : i)", positions: positions, allowed: allowed)
        }
        var out = ForwardOutputs()
        out.add("hidden", x)
        let (v, e, h) = (geometry.vocab, geometry.embedding, geometry.hidden)
        var heads = r.heads
        if r.application != .encoder { heads.insert(.mlm) }
        if heads.contains(.pool) || heads.contains(.nsp) {
            var first = Matrix(rows: 1, cols: x.cols, data: Array(x.row(0)))
            first = first.matmul(
                try weights.matrix("pooler.weight", rows: h, cols: h), bias: try weights.vector("pooler.bias", count: h)
            )
            first.apply { Activation.tanh($0) }
            out.add("pooled", vector: first.data.array)
            if heads.contains(.nsp) {
                // heads.nsp.weight keeps TF's [2, hidden] orientation.
                var logits = first.matmul(try weights.matrix("heads.nsp.weight", rows: 2, cols: h), transposed: true)
                logits.addRow(try weights.vector("heads.nsp.bias", count: 2))
                out.add("nsp_probs", vector: softmax(logits).data.array)
            }
        }
        if heads.contains(.mlm) {
            var t = x.matmul(
                try weights.matrix("heads.mlm.dense.weight", rows: h, cols: e),
                bias: try weights.vector("heads.mlm.dense.bias", count: e))
            t.apply(activations[0])
            t = try NormLayer.load(weights, prefix: "heads.mlm.norm", size: e, epsilon: spec.mlmEpsilon)(t)
            var logits = t.matmul(try weights.matrix("embeddings.token.weight", rows: v, cols: e), transposed: true)
            logits.addRow(try weights.vector("heads.mlm.bias", count: v))
            out.add("mlm_probs", softmax(logits))
        }
        if heads.contains(.discriminator) {
            var t = x.matmul(
                try weights.matrix("heads.discriminator.dense.weight", rows: h, cols: h),
                bias: try weights.vector("heads.discriminator.dense.bias", count: h))
            t.apply(activations[0])
            var p = t.matmul(
                try weights.matrix("heads.discriminator.output.weight", rows: h, cols: 1),
                bias: try weights.vector("heads.discriminator.output.bias", count: 1))
            p.apply { Activation.sigmoid($0) }
            out.add("discriminator_probs", p)
        }
        return out
    }
}
