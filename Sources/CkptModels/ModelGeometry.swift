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
        var d = GeometryDerivation(
            spec: spec, check: ShapeCheck(family: family, shapes: shapes, names: names, config: config, file: file),
            complete: complete)
        self = try d.derive(layers: layers)
    }

    /// The geometry of the model a conversion plan describes: the plan's native shapes, named as
    /// the user's file names them. Nil for a family without a forward pass.
    public init?(setup: ConversionSetup, complete: Bool = true) throws {
        guard let spec = setup.table.forward else { return nil }
        let plan = try setup.nativePlan()
        var shapes: [String: [Int]] = [:]
        for output in plan.outputs {
            guard let native = output.nativeName else { continue }
            shapes[native] = output.shape
        }
        try self.init(
            spec: spec, family: plan.family, shapes: shapes,
            names: ConversionSetup.userNames(plan, source: setup.source),
            config: setup.config,
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
