import CkptCore
import CkptMappings

/// The steps of `ModelGeometry`'s derivation, in order: embeddings, heads and layers, attention,
/// feed-forward, position tables, T5 buckets, then every tensor against the sizes found. A step
/// returns false when a conversion (not `complete`) lacks what the next steps need.
struct GeometryDerivation {
    let spec: ArchitectureSpec
    let check: ShapeCheck
    let complete: Bool
    var g = ModelGeometry()

    var shapes: [String: [Int]] { check.shapes }
    var config: ModelConfig? { check.config }
    var configFile: String { config?.path ?? check.file }
    /// The stack whose layer 0 gives the sizes.
    var stack: String { spec.kind == .decoder ? "decoder" : "encoder" }

    init(spec: ArchitectureSpec, check: ShapeCheck, complete: Bool) {
        self.spec = spec
        self.check = check
        self.complete = complete
    }

    mutating func derive(layers: Int) throws -> ModelGeometry {
        guard try embeddings() else { return g }
        try headsAndLayers(layers)
        guard try attention(), try feedForward() else { return g }
        try tables()
        guard try buckets() else { return g }
        if complete {
            g.activations = try ReferenceModel.activations(config, default: spec.defaultActivation, file: check.file)
        }
        try checkEveryTensor()
        return g
    }

    /// A tensor the next steps need: its shape, or nil (then an error when the model is built).
    func needed(_ name: String) throws -> [Int]? {
        if let s = shapes[name] { return s }
        if complete { throw check.missing(name) }
        return nil
    }

    /// Vocabulary and embedding size from the token embedding; hidden size from it or the projection.
    mutating func embeddings() throws -> Bool {
        let tokenName = "embeddings.token.weight", projectionName = "embeddings.projection.weight"
        guard let token = try needed(tokenName) else { return false }
        guard token.count == 2, token[0] > 0, token[1] > 0 else {
            throw check.wrongShape(tokenName, token, expected: "[vocabulary, embedding size], both positive")
        }
        (g.vocab, g.embedding, g.hidden) = (token[0], token[1], token[1])
        if let projection = shapes[projectionName] {
            guard projection.count == 2, projection[0] == g.embedding, projection[1] > 0 else {
                let width = "\(g.embedding): the width of \(check.userName(tokenName))"
                throw check.wrongShape(projectionName, projection, expected: "[\(g.embedding), hidden size] (\(width))")
            }
            g.hidden = projection[1]
        }
        let hiddenFrom = shapes[projectionName] != nil ? projectionName : tokenName
        try check.configMatches(
            ["hidden_size", "d_model", "n_embd"], g.hidden, what: "hidden size", tensor: hiddenFrom)
        try check.configMatches(["vocab_size", "n_vocab"], g.vocab, what: "vocabulary size", tensor: tokenName)
        return true
    }

    /// Heads from the config (a conversion without one checks as if one head); 1 to 1,024 layers.
    mutating func headsAndLayers(_ layers: Int) throws {
        let given = config?.int("num_attention_heads", "n_head", "num_heads")
        guard let h = given ?? (complete ? nil : 1) else {
            throw CkptError(.malformed, file: configFile, "the config gives no num_attention_heads")
        }
        guard h > 0 else {
            throw CkptError(.malformed, file: configFile, "num_attention_heads is \(h); it must be positive")
        }
        g.heads = h
        guard (1...ModelGeometry.maxLayers).contains(layers) || (!complete && layers == 0) else {
            throw CkptError(
                .malformed, file: configFile,
                "the model has \(layers) layers; ckpt runs 1 to \(ModelGeometry.maxLayers)")
        }
        g.layers = layers
    }

    /// Key and head sizes from the first layer's query and value kernels.
    mutating func attention() throws -> Bool {
        let query = "\(stack).layers.0.attention.query.weight", value = "\(stack).layers.0.attention.value.weight"
        guard let q = try needed(query), let v = try needed(value) else { return false }
        let (h, n) = (g.hidden, g.heads)
        guard q.count == 2, q[0] == h, q[1] > 0 else {
            throw check.wrongShape(query, q, expected: "[\(h), heads × size] (hidden size \(h))")
        }
        guard v.count == 2, v[0] == h, v[1] > 0 else {
            throw check.wrongShape(value, v, expected: "[\(h), heads × size] (hidden size \(h))")
        }
        for (name, shape) in [(query, q), (value, v)] where shape[1] % n != 0 {
            throw check.wrongShape(name, shape, expected: "[\(h), a multiple of the \(n) attention heads]")
        }
        (g.keySize, g.headSize) = (q[1] / n, v[1] / n)
        let explicitHead = config?.int("attention_head_size", "d_kv")
        let explicitKey = config?.int("attention_key_size") ?? explicitHead
        if let k = explicitKey, k != g.keySize {
            throw check.wrongShape(query, q, expected: "[\(h), \(n * k)] (\(n) heads × key size \(k) of the config)")
        }
        if let k = explicitHead, k != g.headSize {
            throw check.wrongShape(value, v, expected: "[\(h), \(n * k)] (\(n) heads × head size \(k) of the config)")
        }
        if explicitKey == nil && explicitHead == nil {
            // bert4keras' attention_head_size = hidden_size // num_attention_heads.
            guard h % n == 0 else {
                throw CkptError(
                    .malformed, file: configFile, "hidden size \(h) is not divisible by the \(n) attention heads")
            }
            if q[1] != h { throw check.wrongShape(query, q, expected: "[\(h), \(h)]") }
            if v[1] != h { throw check.wrongShape(value, v, expected: "[\(h), \(h)]") }
        }
        if spec.positions == .rotary && g.keySize % 2 != 0 {
            throw check.wrongShape(
                query, q, expected: "an even key size per head for rotary positions, not \(g.keySize)")
        }
        return true
    }

    mutating func feedForward() throws -> Bool {
        let ffn = "\(stack).layers.0.ffn.intermediate.weight"
        guard let i = try needed(ffn) else { return false }
        guard i.count == 2, i[0] == g.hidden, i[1] > 0 else {
            throw check.wrongShape(ffn, i, expected: "[\(g.hidden), intermediate size]")
        }
        g.intermediate = i[1]
        try check.configMatches(
            ["intermediate_size", "d_ff", "n_inner"], g.intermediate, what: "intermediate size", tensor: ffn)
        return true
    }

    /// Rows of the position and segment tables, when the checkpoint has them.
    mutating func tables() throws {
        let positions = "embeddings.position.weight", segments = "embeddings.segment.weight"
        if let p = shapes[positions] {
            guard p.count == 2, p[0] > 0 else {
                throw check.wrongShape(positions, p, expected: "[positions, \(g.embedding)]")
            }
            g.positions = p[0]
            try check.configMatches(
                ["max_position_embeddings", "n_positions"], p[0], what: "position count", tensor: positions)
        }
        if let t = shapes[segments] {
            guard t.count == 2, t[0] > 0 else {
                throw check.wrongShape(segments, t, expected: "[segments, \(g.embedding)]")
            }
            g.segments = t[0]
            if let n = config?.int("type_vocab_size"), n > 0 {
                try check.configMatches(["type_vocab_size"], t[0], what: "segment count", tensor: segments)
            }
        }
    }

    /// T5: buckets from block 0's `[heads, buckets]` bias, distance from the config.
    mutating func buckets() throws -> Bool {
        guard spec.positions == .t5Buckets else { return true }
        let bias = "\(stack).layers.0.attention.relative_bias.weight"
        guard let b = try needed(bias) else { return false }
        guard b.count == 2, b[0] == g.heads, b[1] >= 2 else {
            throw check.wrongShape(bias, b, expected: "[\(g.heads) heads, buckets ≥ 2]")
        }
        g.buckets = b[1]
        try check.configMatches(
            ["relative_attention_num_buckets"], b[1], what: "relative attention buckets", tensor: bias)
        let distance = config?.int("relative_attention_max_distance") ?? 128
        guard distance >= 1 && distance <= 1 << 30 else {
            throw CkptError(
                .malformed, file: configFile, "relative_attention_max_distance is \(distance); it must be positive")
        }
        g.maxDistance = distance
        return true
    }

    /// Every tensor the pass may use against the sizes found; every tensor it needs present.
    func checkEveryTensor() throws {
        let table = ShapeTable(g)
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let expected = table.expected(name) else { continue }
            if let layer = ShapeTable.layerIndex(name), layer >= g.layers {
                throw check.wrongShape(name, shape, expected: "no tensor: the model has \(g.layers) layers")
            }
            if shape != expected.dims {
                throw check.wrongShape(
                    name, shape, expected: ShapeMath.describe(expected.dims) + " (\(expected.meaning))")
            }
        }
        if complete {
            let encoderOnly = !shapes.keys.contains { $0.hasPrefix("decoder.") }
            for name in ShapeTable.required(spec, layers: g.layers, encoderOnly: encoderOnly) where shapes[name] == nil
            {
                throw check.missing(name)
            }
        }
    }
}
