import CkptCore
import CkptMappings

/// The sizes a model is built with, derived once from its config and its tensors' shapes, and
/// checked before any weight is read or any product computed (candle's `VarBuilder.get(shape,
/// name)`): every tensor the forward pass uses must have the shape these sizes give it, so the
/// kernels' own preconditions can never be reached by a checkpoint, however it lies.
public struct ModelGeometry: Equatable, Sendable {
    public var vocab = 0
    /// Columns of the token embedding (ALBERT's and ELECTRA's `embedding_size`).
    public var embedding = 0
    public var hidden = 0
    public var heads = 0
    /// Query/key columns per head (bert4keras `attention_key_size`, T5's `d_kv`).
    public var keySize = 0
    /// Value columns per head (`attention_head_size`).
    public var headSize = 0
    public var intermediate = 0
    public var layers = 0
    /// Rows of the learned position table, when the family has one.
    public var positions: Int?
    /// Rows of the segment (token type) table, when the checkpoint has one.
    public var segments: Int?
    /// T5's relative attention buckets and the distance the last bucket starts at.
    public var buckets: Int?
    public var maxDistance: Int?
    public var activations: [Activation] = []

    /// The most layers ckpt runs: ALBERT's shared layer takes its depth from the config alone.
    public static let maxLayers = 1024

    /// What differs between two geometries, as `name a -> b` phrases (empty when equal).
    public func differences(from other: ModelGeometry) -> [String] {
        var out: [String] = []
        func cmp<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { out.append("\(name) \(a) -> \(b)") } }
        cmp("vocabulary", vocab, other.vocab)
        cmp("embedding size", embedding, other.embedding)
        cmp("hidden size", hidden, other.hidden)
        cmp("attention heads", heads, other.heads)
        cmp("key size", keySize, other.keySize)
        cmp("head size", headSize, other.headSize)
        cmp("intermediate size", intermediate, other.intermediate)
        cmp("layers", layers, other.layers)
        cmp("segments", segments.map(String.init) ?? "none", other.segments.map(String.init) ?? "none")
        cmp("positions", positions.map(String.init) ?? "none", other.positions.map(String.init) ?? "none")
        cmp("relative buckets", buckets.map(String.init) ?? "none", other.buckets.map(String.init) ?? "none")
        cmp(
            "relative max distance", maxDistance.map(String.init) ?? "none",
            other.maxDistance.map(String.init) ?? "none")
        // GELU with erf or with its tanh approximation is one function for this check (the
        // Hugging Face T5.1.1 config can only say the latter); `approximationNotes` reports it.
        func plain(_ a: [Activation]) -> String {
            a.map { $0 == .gelu_tanh ? "gelu" : $0.rawValue }.joined(separator: ",")
        }
        cmp("activations", plain(activations), plain(other.activations))
        return out
    }

    /// Differences in how an activation is approximated (erf GELU against tanh GELU).
    public func approximationNotes(from other: ModelGeometry) -> [String] {
        let a = activations.map(\.rawValue).joined(separator: ","),
            b = other.activations.map(\.rawValue).joined(separator: ",")
        return a != b && differences(from: other).allSatisfy({ !$0.hasPrefix("activations") })
            ? ["activations \(a) -> \(b)"] : []
    }
}

extension ModelGeometry {
    /// Derives and checks the sizes of `family`'s model.
    /// - Parameters:
    ///   - shapes: every canonical tensor's shape.
    ///   - names: how the user's file names each canonical tensor (for messages).
    ///   - complete: whether every tensor the forward pass needs must be present (a model is
    ///     built), or only those present are checked (a conversion writes what it has).
    public init(
        spec: ArchitectureSpec, family: String, shapes: [String: [Int]], names: [String: String], config: ModelConfig?,
        layers: Int, file: String, complete: Bool = true
    ) throws {
        let check = ShapeCheck(family: family, shapes: shapes, names: names, config: config, file: file)
        guard let token = shapes["embeddings.token.weight"] else {
            if complete { throw check.missing("embeddings.token.weight") }
            return
        }
        guard token.count == 2, token[0] > 0, token[1] > 0 else {
            throw check.wrongShape(
                "embeddings.token.weight", token, expected: "[vocabulary, embedding size], both positive")
        }
        vocab = token[0]
        embedding = token[1]
        hidden = embedding
        if let projection = shapes["embeddings.projection.weight"] {
            guard projection.count == 2, projection[0] == embedding, projection[1] > 0 else {
                throw check.wrongShape(
                    "embeddings.projection.weight", projection,
                    expected:
                        "[\(embedding), hidden size] "
                        + "(\(embedding): the width of \(check.userName("embeddings.token.weight")))"
                )
            }
            hidden = projection[1]
        }
        try check.configMatches(
            ["hidden_size", "d_model", "n_embd"], hidden, what: "hidden size",
            tensor: shapes["embeddings.projection.weight"] != nil
                ? "embeddings.projection.weight" : "embeddings.token.weight")
        try check.configMatches(
            ["vocab_size", "n_vocab"], vocab, what: "vocabulary size", tensor: "embeddings.token.weight")

        // A conversion without a config still checks what it can: one head, the layers it has.
        let givenHeads = config?.int("num_attention_heads", "n_head", "num_heads")
        guard let h = givenHeads ?? (complete ? nil : 1) else {
            throw CkptError(.malformed, file: config?.path ?? file, "the config gives no num_attention_heads")
        }
        guard h > 0 else {
            throw CkptError(.malformed, file: config?.path ?? file, "num_attention_heads is \(h); it must be positive")
        }
        heads = h
        guard (1...Self.maxLayers).contains(layers) || (!complete && layers == 0) else {
            throw CkptError(
                .malformed, file: config?.path ?? file,
                "the model has \(layers) layers; ckpt runs 1 to \(Self.maxLayers)")
        }
        self.layers = layers

        // Attention sizes from the first layer's query and value kernels.
        let stack = spec.kind == .decoder ? "decoder" : "encoder"
        let query = "\(stack).layers.0.attention.query.weight", value = "\(stack).layers.0.attention.value.weight"
        guard let q = shapes[query], let v = shapes[value] else {
            if complete { throw check.missing(shapes[query] == nil ? query : value) }
            return
        }
        guard q.count == 2, q[0] == hidden, q[1] > 0, v.count == 2, v[0] == hidden, v[1] > 0 else {
            let bad = q.count == 2 && q[0] == hidden && q[1] > 0 ? value : query
            throw check.wrongShape(bad, shapes[bad]!, expected: "[\(hidden), heads × size] (hidden size \(hidden))")
        }
        guard q[1] % heads == 0 else {
            throw check.wrongShape(query, q, expected: "[\(hidden), a multiple of the \(heads) attention heads]")
        }
        guard v[1] % heads == 0 else {
            throw check.wrongShape(value, v, expected: "[\(hidden), a multiple of the \(heads) attention heads]")
        }
        keySize = q[1] / heads
        headSize = v[1] / heads
        let explicitHead = config?.int("attention_head_size", "d_kv")
        let explicitKey = config?.int("attention_key_size") ?? explicitHead
        if let k = explicitKey, k != keySize {
            throw check.wrongShape(
                query, q, expected: "[\(hidden), \(heads * k)] (\(heads) heads × key size \(k) of the config)")
        }
        if let k = explicitHead, k != headSize {
            throw check.wrongShape(
                value, v, expected: "[\(hidden), \(heads * k)] (\(heads) heads × head size \(k) of the config)")
        }
        if explicitKey == nil && explicitHead == nil {
            // bert4keras' attention_head_size = hidden_size // num_attention_heads.
            guard hidden % heads == 0 else {
                throw CkptError(
                    .malformed, file: config?.path ?? file,
                    "hidden size \(hidden) is not divisible by the \(heads) attention heads")
            }
            if q[1] != hidden { throw check.wrongShape(query, q, expected: "[\(hidden), \(hidden)]") }
            if v[1] != hidden { throw check.wrongShape(value, v, expected: "[\(hidden), \(hidden)]") }
        }
        if spec.positions == .rotary && keySize % 2 != 0 {
            throw check.wrongShape(query, q, expected: "an even key size per head for rotary positions, not \(keySize)")
        }

        let ffn = "\(stack).layers.0.ffn.intermediate.weight"
        guard let i = shapes[ffn] else {
            if complete { throw check.missing(ffn) }
            return
        }
        guard i.count == 2, i[0] == hidden, i[1] > 0 else {
            throw check.wrongShape(ffn, i, expected: "[\(hidden), intermediate size]")
        }
        intermediate = i[1]
        try check.configMatches(
            ["intermediate_size", "d_ff", "n_inner"], intermediate, what: "intermediate size", tensor: ffn)

        if let p = shapes["embeddings.position.weight"] {
            guard p.count == 2, p[0] > 0 else {
                throw check.wrongShape("embeddings.position.weight", p, expected: "[positions, \(embedding)]")
            }
            positions = p[0]
            try check.configMatches(
                ["max_position_embeddings", "n_positions"], p[0], what: "position count",
                tensor: "embeddings.position.weight")
        }
        if let t = shapes["embeddings.segment.weight"] {
            guard t.count == 2, t[0] > 0 else {
                throw check.wrongShape("embeddings.segment.weight", t, expected: "[segments, \(embedding)]")
            }
            segments = t[0]
            if let n = config?.int("type_vocab_size"), n > 0 {
                try check.configMatches(
                    ["type_vocab_size"], t[0], what: "segment count", tensor: "embeddings.segment.weight")
            }
        }
        if spec.positions == .t5Buckets {
            let bias = "\(stack).layers.0.attention.relative_bias.weight"
            guard let b = shapes[bias] else {
                if complete { throw check.missing(bias) }
                return
            }
            guard b.count == 2, b[0] == heads, b[1] >= 2 else {
                throw check.wrongShape(bias, b, expected: "[\(heads) heads, buckets ≥ 2]")
            }
            buckets = b[1]
            try check.configMatches(
                ["relative_attention_num_buckets"], b[1], what: "relative attention buckets", tensor: bias)
            let distance = config?.int("relative_attention_max_distance") ?? 128
            guard distance >= 1 && distance <= 1 << 30 else {
                throw CkptError(
                    .malformed, file: config?.path ?? file,
                    "relative_attention_max_distance is \(distance); it must be positive")
            }
            maxDistance = distance
        }
        if complete {
            activations = try ReferenceModel.activations(config, default: spec.defaultActivation, file: file)
        }

        // Every tensor the pass may use, against the sizes above.
        let table = ShapeTable(self)
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let expected = table.expected(name) else { continue }
            if let layer = ShapeTable.layerIndex(name), layer >= layers {
                throw check.wrongShape(name, shape, expected: "no tensor: the model has \(layers) layers")
            }
            if shape != expected.dims {
                throw check.wrongShape(
                    name, shape, expected: ShapeMath.describe(expected.dims) + " (\(expected.meaning))")
            }
        }
        if complete {
            for name in ShapeTable.required(spec, layers: layers) where shapes[name] == nil {
                throw check.missing(name)
            }
        }
    }

    /// The geometry of the model a conversion plan describes: the plan's native shapes, named as
    /// the user's file names them. Nil for a family without a forward pass.
    public init?(setup: ConversionSetup, complete: Bool = true) throws {
        guard let spec = setup.table.forward else { return nil }
        let plan = try setup.nativePlan()
        var shapes: [String: [Int]] = [:], names: [String: String] = [:]
        for output in plan.outputs {
            guard let native = output.nativeName else { continue }
            shapes[native] = output.shape
            names[native] = output.inputs.map(\.source.name).joined(separator: " + ")
        }
        try self.init(
            spec: spec, family: plan.family, shapes: shapes, names: names, config: setup.config,
            layers: plan.layerCount, file: setup.source.path, complete: complete)
    }
}

/// Builds the one-line errors of the checks, naming tensors as the user's file does.
struct ShapeCheck {
    let family: String
    let shapes: [String: [Int]]
    let names: [String: String]
    let config: ModelConfig?
    let file: String

    func userName(_ canonical: String) -> String { names[canonical] ?? canonical }

    func missing(_ canonical: String) -> CkptError {
        let name = names[canonical].map { "\($0) (\(canonical))" } ?? canonical
        return CkptError(.tensorNotFound, file: file, tensor: name, "the \(family) forward pass needs this weight")
    }

    func wrongShape(_ canonical: String, _ shape: [Int], expected: String) -> CkptError {
        CkptError(
            .sizeMismatch, file: file, tensor: userName(canonical),
            "shape \(ShapeMath.describe(shape)); the \(family) family needs \(expected)")
    }

    /// A config value, when the config gives one, must equal the size the tensors have.
    func configMatches(_ keys: [String], _ size: Int, what: String, tensor: String) throws {
        guard let config else { return }
        for key in keys {
            guard let value = config.values[key] else { continue }
            if case .null = value { continue }
            guard let n = config.int(key) else {
                throw CkptError(.malformed, file: config.path, "\(key) is not a whole number")
            }
            guard n == size else {
                throw CkptError(
                    .sizeMismatch, file: config.path, tensor: userName(tensor),
                    "config \(key) is \(n), but the tensor's shape \(ShapeMath.describe(shapes[tensor] ?? [])) "
                        + "gives \(what) \(size)")
            }
            return
        }
    }
}
