import CkptCore
import CkptMappings
import CSystem

/// The float32 reference forward pass of one family, composed from canonical weights.
public struct ReferenceModel {
    public let family: String
    public let spec: ArchitectureSpec
    let weights: WeightStore
    let layers: Int
    let heads: Int
    let activations: [Activation]
    let vocabSize: Int
    let maxPositions: Int?
    /// T5's decoder convention when a request names none: transformers' for a checkpoint in
    /// Hugging Face names, bert4keras' otherwise.
    public var t5Convention = T5Convention.bert4keras

    public let geometry: ModelGeometry

    /// Checks every weight's shape against the sizes derived from `config` and the tensors
    /// (`geometry`, when the caller derived it already from the plan) before anything is computed.
    public init(
        family: String, spec: ArchitectureSpec, weights: WeightStore, config: ModelConfig?, layers: Int,
        geometry: ModelGeometry? = nil
    ) throws {
        let g =
            try geometry
            ?? ModelGeometry(
                spec: spec, family: family, shapes: weights.tensors.mapValues(\.shape), names: [:],
                config: config, layers: layers, file: weights.origin)
        try BLAS.load()
        self.family = family
        self.spec = spec.epsilons(from: config)
        self.weights = weights
        self.geometry = g
        self.layers = g.layers
        heads = g.heads
        activations = g.activations
        vocabSize = g.vocab
        maxPositions = g.positions
    }

    /// bert4keras `hidden_act`: a name or a list (T5.1.1's ["gelu", "linear"]); `gelu` is erf-based.
    static func activations(_ config: ModelConfig?, default fallback: String = "gelu", file: String) throws
        -> [Activation]
    {
        func parse(_ s: String) throws -> Activation {
            if s == "gelu_new" { return .gelu_tanh }
            guard let a = Activation(rawValue: s == "gelu_erf" ? "gelu" : s) else {
                throw CkptError(.unsupported, file: config?.path ?? file, "activation '\(s)' is not supported")
            }
            return a
        }
        // transformers' T5 config says feed_forward_proj: "relu" or "gated-gelu" (tanh GELU).
        if case .string(let proj)? = config?.values["feed_forward_proj"], config?.values["hidden_act"] == nil {
            guard proj.hasPrefix("gated-") else { return [try parse(proj)] }
            let gated = String(proj.dropFirst(6))
            return [try parse(gated == "gelu" ? "gelu_new" : gated), .linear]
        }
        switch config?.values["hidden_act"] ?? config?.values["activation_function"] {
        case .string(let s)?: return [try parse(s)]
        case .array(let xs)?:
            return try xs.map { v -> Activation in
                guard case .string(let s) = v else {
                    throw CkptError(.malformed, file: config?.path ?? file, "hidden_act list holds a non-string")
                }
                return try parse(s)
            }
        default: return [try parse(fallback)]
        }
    }

    // MARK: - Running

    public func run(_ request: ForwardRequest) throws -> ForwardOutputs {
        try validate(request)
        Self.tuneAllocator
        switch spec.kind {
        case .encoder: return try runEncoder(request)
        case .decoder: return try runDecoder(request)
        case .encoderDecoder: return try runT5(request)
        }
    }

    /// Once per process: activations are allocated and freed at the same sizes every layer.
    static let tuneAllocator: Void = ckpt_reuse_freed_memory()

    func fail(_ why: String) -> CkptError { CkptError(.malformed, file: weights.origin, why) }

    func validate(_ r: ForwardRequest) throws {
        guard !r.tokens.isEmpty else { throw fail("no tokens given") }
        if let bad = r.tokens.first(where: { $0 < 0 || $0 >= vocabSize }) {
            throw fail("token id \(bad) is outside the vocabulary (0..<\(vocabSize))")
        }
        if let maxPositions, r.tokens.count > maxPositions {
            throw fail("\(r.tokens.count) tokens exceed the \(maxPositions) positions the model has")
        }
        if let s = r.segments {
            guard s.count == r.tokens.count else { throw fail("\(s.count) segment ids for \(r.tokens.count) tokens") }
            let rows = weights.tensors["embeddings.segment.weight"]?.shape.first ?? 0
            if let bad = s.first(where: { $0 < 0 || ($0 >= rows && rows > 0) }) {
                throw fail("segment id \(bad) is outside 0..<\(max(rows, 1))")
            }
        }
        if spec.kind != .encoder && (!r.heads.isEmpty || r.application == .unilm) {
            throw fail("the \(family) family has no heads or applications besides its language model")
        }
        if spec.kind == .encoderDecoder, let d = r.decoderTokens {
            // Without decoder ids only the encoder runs (encoder_hidden).
            guard !d.isEmpty else { throw fail("empty decoder token ids") }
            if let bad = d.first(where: { $0 < 0 || $0 >= vocabSize }) {
                throw fail("decoder token id \(bad) is outside the vocabulary (0..<\(vocabSize))")
            }
        }
        let needs: [(Head, String)] = [
            (.pool, "pooler.weight"), (.nsp, "heads.nsp.weight"), (.mlm, "heads.mlm.dense.weight"),
            (.discriminator, "heads.discriminator.dense.weight"),
        ]
        var wanted = r.heads
        if r.application != .encoder { wanted.insert(.mlm) }
        for (h, name) in needs where wanted.contains(h) && !weights.has(name) {
            throw fail("the checkpoint has no \(h.rawValue) head (\(name) missing)")
        }
        if wanted.contains(.nsp) && !weights.has("pooler.weight") {
            throw fail("the checkpoint has no pooler for the nsp head")
        }
    }

    /// Which keys a query may attend to: padding (token id 0) is never attended, as bert4keras'
    /// Embedding(mask_zero=True) makes it — except the first position, which bert4keras'
    /// Embedding.compute_mask always keeps (T5's decoder starts with id 0); `lm` adds the causal
    /// mask, `unilm` the segment one.
    static func mask(tokens: [Int], application: Application, segments: [Int]?) -> (Int, Int) -> Bool {
        let padding = paddingMask(tokens)
        switch application {
        case .encoder:
            return { _, k in padding[k] }
        case .lm:
            return { q, k in padding[k] && k <= q }
        case .unilm:
            var cum: [Int] = []
            var s = 0
            for v in segments ?? [Int](repeating: 0, count: tokens.count) { s += v; cum.append(s) }
            return { q, k in padding[k] && cum[k] <= cum[q] }
        }
    }

    /// True for the keys that may be attended to.
    static func paddingMask(_ tokens: [Int]) -> [Bool] {
        tokens.enumerated().map { i, t in i == 0 || t != 0 }
    }

    func embed(_ tokens: [Int], segments: [Int]?) throws -> Matrix {
        let g = geometry
        let table = try weights.matrix("embeddings.token.weight", rows: g.vocab, cols: g.embedding)
        // Ids are checked against the tables' rows before the pass (`validate`).
        var x = table.gatherRows(tokens)
        if weights.has("embeddings.segment.weight") {
            let seg = try weights.matrix("embeddings.segment.weight", rows: g.segments, cols: g.embedding)
            x.addRows(of: seg, at: segments ?? [Int](repeating: 0, count: tokens.count))
        }
        if spec.positions == .absolute {
            let pos = try weights.matrix("embeddings.position.weight", rows: g.positions, cols: g.embedding)
            x.addRows(of: pos, at: Array(0..<tokens.count))
        }
        if spec.embeddingNorm {
            x = try NormLayer.load(
                weights, prefix: "embeddings.norm", size: g.embedding, epsilon: spec.embeddingEpsilon)(x)
        }
        if weights.has("embeddings.projection.weight") {
            x = x.matmul(
                try weights.matrix("embeddings.projection.weight", rows: g.embedding, cols: g.hidden),
                bias: try weights.vector("embeddings.projection.bias", count: g.hidden))
        }
        return x
    }

    /// One transformer layer of the encoder and GPT families.
    func layer(_ x: Matrix, prefix: String, positions: PositionScheme, allowed: (Int, Int) -> Bool) throws -> Matrix {
        let attention = try AttentionLayer.load(weights, prefix: prefix + ".attention", geometry: geometry, scale: true)
        let ffn = try FeedForwardLayer.load(weights, prefix: prefix + ".ffn", geometry: geometry)
        switch spec.placement {
        case .post:
            let an = try NormLayer.load(
                weights, prefix: prefix + ".attention.norm", size: geometry.hidden, epsilon: spec.epsilon)
            let fn = try NormLayer.load(
                weights, prefix: prefix + ".ffn.norm", size: geometry.hidden, epsilon: spec.epsilon)
            let a = an(attention(x, context: x, positions: positions, allowed: allowed), residual: x)
            return fn(ffn(a), residual: a)
        case .pre:
            let an = try NormLayer.load(
                weights, prefix: prefix + ".attention.norm", size: geometry.hidden, epsilon: spec.epsilon)
            let fn = try NormLayer.load(
                weights, prefix: prefix + ".ffn.norm", size: geometry.hidden, epsilon: spec.epsilon)
            let xn = an(x)
            let a = x + attention(xn, context: xn, positions: positions, allowed: allowed)
            return a + ffn(fn(a))
        case .aroundFFN:
            let n0 = try NormLayer.load(
                weights, prefix: prefix + ".ffn.norm0", size: geometry.hidden, epsilon: spec.epsilon)
            let n1 = try NormLayer.load(
                weights, prefix: prefix + ".ffn.norm1", size: geometry.hidden, epsilon: spec.epsilon)
            let a = x + attention(x, context: x, positions: positions, allowed: allowed)
            return n1(ffn(n0(a)), residual: a)
        }
    }

    func positionScheme() throws -> PositionScheme {
        switch spec.positions {
        case .absolute, .t5Buckets: return .none
        case .rotary: return .rotary
        case .relative:
            return .relative(table: PositionScheme.nezhaTable(keySize: geometry.keySize))
        }
    }

    func softmax(_ m: Matrix) -> Matrix {
        var out = m
        Normalize.softmaxRows(&out)
        return out
    }
}
