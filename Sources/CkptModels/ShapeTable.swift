import CkptMappings

/// The shape of every canonical tensor the forward pass may use, in terms of a model's sizes,
/// and the tensors each kind of model needs. Canonical names are shared by every family, so one
/// table serves all of them (layer tensors are listed by their name after `layers.N.`).
struct ShapeTable {
    struct Expected {
        let dims: [Int]
        let meaning: String
    }

    private let byName: [String: Expected]
    private let byLayerSuffix: [String: Expected]

    init(_ g: ModelGeometry) {
        let (v, e, h, i) = (g.vocab, g.embedding, g.hidden, g.intermediate)
        let qk = g.heads * g.keySize, vo = g.heads * g.headSize
        func x(_ dims: [Int], _ meaning: String) -> Expected { Expected(dims: dims, meaning: meaning) }
        var global: [String: Expected] = [
            "embeddings.token.weight": x([v, e], "vocabulary × embedding size"),
            "embeddings.norm.weight": x([e], "embedding size"),
            "embeddings.norm.bias": x([e], "embedding size"),
            "embeddings.projection.weight": x([e, h], "embedding size × hidden size"),
            "embeddings.projection.bias": x([h], "hidden size"),
            "encoder.norm.weight": x([h], "hidden size"),
            "encoder.norm.bias": x([h], "hidden size"),
            "decoder.norm.weight": x([h], "hidden size"),
            "decoder.norm.bias": x([h], "hidden size"),
            "pooler.weight": x([h, h], "hidden size × hidden size"),
            "pooler.bias": x([h], "hidden size"),
            "heads.nsp.weight": x([2, h], "2 × hidden size"),
            "heads.nsp.bias": x([2], "2 classes"),
            "heads.mlm.dense.weight": x([h, e], "hidden size × embedding size"),
            "heads.mlm.dense.bias": x([e], "embedding size"),
            "heads.mlm.norm.weight": x([e], "embedding size"),
            "heads.mlm.norm.bias": x([e], "embedding size"),
            "heads.mlm.bias": x([v], "vocabulary"),
            "heads.discriminator.dense.weight": x([h, h], "hidden size × hidden size"),
            "heads.discriminator.dense.bias": x([h], "hidden size"),
            "heads.discriminator.output.weight": x([h, 1], "hidden size × 1"),
            "heads.discriminator.output.bias": x([1], "one output"),
            "lm_head.weight": x([h, v], "hidden size × vocabulary"),
        ]
        if let p = g.positions { global["embeddings.position.weight"] = x([p, e], "positions × embedding size") }
        if let s = g.segments { global["embeddings.segment.weight"] = x([s, e], "segments × embedding size") }
        byName = global
        var layer: [String: Expected] = [:]
        for a in ["attention", "cross_attention"] {
            layer["\(a).query.weight"] = x([h, qk], "hidden size × heads·key size")
            layer["\(a).query.bias"] = x([qk], "heads·key size")
            layer["\(a).key.weight"] = x([h, qk], "hidden size × heads·key size")
            layer["\(a).key.bias"] = x([qk], "heads·key size")
            layer["\(a).value.weight"] = x([h, vo], "hidden size × heads·head size")
            layer["\(a).value.bias"] = x([vo], "heads·head size")
            layer["\(a).output.weight"] = x([vo, h], "heads·head size × hidden size")
            layer["\(a).output.bias"] = x([h], "hidden size")
            layer["\(a).norm.weight"] = x([h], "hidden size")
            layer["\(a).norm.bias"] = x([h], "hidden size")
        }
        if let b = g.buckets { layer["attention.relative_bias.weight"] = x([g.heads, b], "heads × buckets") }
        layer["ffn.intermediate.weight"] = x([h, i], "hidden size × intermediate size")
        layer["ffn.intermediate.bias"] = x([i], "intermediate size")
        layer["ffn.gate.weight"] = x([h, i], "hidden size × intermediate size")
        layer["ffn.output.weight"] = x([i, h], "intermediate size × hidden size")
        layer["ffn.output.bias"] = x([h], "hidden size")
        for n in ["ffn.norm", "ffn.norm0", "ffn.norm1"] {
            layer["\(n).weight"] = x([h], "hidden size")
            layer["\(n).bias"] = x([h], "hidden size")
        }
        byLayerSuffix = layer
    }

    /// The expected shape of a canonical tensor, nil for one the forward pass never uses.
    func expected(_ name: String) -> Expected? {
        if let e = byName[name] { return e }
        guard let (_, suffix) = Self.splitLayer(name) else { return nil }
        return byLayerSuffix[suffix]
    }

    /// `encoder.layers.3.ffn.norm.weight` → 3.
    static func layerIndex(_ name: String) -> Int? { splitLayer(name)?.0 }

    private static func splitLayer(_ name: String) -> (Int, String)? {
        let parts = name.split(separator: ".", maxSplits: 3)
        guard parts.count == 4, parts[0] == "encoder" || parts[0] == "decoder", parts[1] == "layers",
            let index = Int(parts[2])
        else { return nil }
        return (index, String(parts[3]))
    }

    /// The tensors a model of this kind cannot run without. An encoder-decoder file without any
    /// decoder tensor (transformers' `T5EncoderModel`) runs its encoder only.
    static func required(_ spec: ArchitectureSpec, layers: Int, encoderOnly: Bool = false) -> [String] {
        var names = ["embeddings.token.weight"]
        if spec.positions == .absolute { names.append("embeddings.position.weight") }
        if spec.embeddingNorm { names.append("embeddings.norm.weight") }
        let stacks: [String]
        switch spec.kind {
        case .encoder: stacks = ["encoder"]
        case .decoder: stacks = ["decoder"]
        case .encoderDecoder: stacks = encoderOnly ? ["encoder"] : ["encoder", "decoder"]
        }
        for stack in stacks {
            for i in 0..<(spec.sharedLayers ? 1 : layers) {
                let p = "\(stack).layers.\(i)."
                var parts = [
                    "attention.query.weight", "attention.key.weight", "attention.value.weight",
                    "attention.output.weight",
                    "ffn.intermediate.weight", "ffn.output.weight",
                ]
                parts +=
                    spec.placement == .aroundFFN
                    ? ["ffn.norm0.weight", "ffn.norm1.weight"] : ["attention.norm.weight", "ffn.norm.weight"]
                if spec.kind == .encoderDecoder && stack == "decoder" {
                    parts += [
                        "cross_attention.query.weight", "cross_attention.key.weight", "cross_attention.value.weight",
                        "cross_attention.output.weight", "cross_attention.norm.weight",
                    ]
                }
                if spec.positions == .t5Buckets && i == 0 { parts.append("attention.relative_bias.weight") }
                names += parts.map { p + $0 }
            }
            if spec.kind == .encoderDecoder { names.append("\(stack).norm.weight") }
        }
        return names
    }
}
