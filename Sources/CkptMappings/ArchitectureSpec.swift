/// How a family's forward pass composes the shared building blocks: the `forward` block of its
/// table in `Mappings/`, read from bert4keras/models.py (`apply_embeddings`, `apply_main_layers`,
/// `apply_final_layers` of each class). Data, so the forward pass has no per-family branches.
public struct ArchitectureSpec: Sendable, Decodable, Equatable {
    public enum Kind: String, Sendable, Decodable {
        /// BERT-like: embeddings, a stack of encoder layers, optional heads.
        case encoder
        /// GPT-like: a causal stack with the token embedding tied as output.
        case decoder
        /// T5: an encoder stack and a decoder stack with cross-attention.
        case encoderDecoder = "encoder_decoder"
    }
    public enum Positions: String, Sendable, Decodable {
        /// Learned absolute embeddings added to the tokens.
        case absolute
        /// NEZHA: sinusoidal relative embeddings (2·64+1 rows) on keys and values (RelativePositionEmbedding).
        case relative
        /// RoFormer: rotary embeddings on queries and keys (apply_rotary_position_embeddings).
        case rotary
        /// T5: bucketed relative attention bias (RelativePositionEmbeddingT5); buckets and distance
        /// from the config (`relative_attention_num_buckets`, `relative_attention_max_distance`).
        case t5Buckets = "t5_buckets"
    }
    /// Where the layer norms sit: BERT's Att→Add→LN→FFN→Add→LN; GPT-2's LN→Att→Add→LN→FFN→Add;
    /// GPT2-ML's Att→Add→LN0→FFN→Add(with pre-LN0)→LN1.
    public enum Placement: String, Sendable, Decodable {
        case post, pre
        case aroundFFN = "around_ffn"
    }

    public let kind: Kind
    public let positions: Positions
    public let placement: Placement
    /// Epsilon of the layers' norms (and the final norm).
    public private(set) var epsilon: Float
    public let embeddingNorm: Bool
    /// ALBERT: one set of layer weights used by every layer (`encoder.layers.0`).
    public let sharedLayers: Bool
    /// Epsilon of the embedding norm (bert4keras passes 1e-12 there for every BERT-like family).
    public private(set) var embeddingEpsilon: Float
    /// Epsilon of the MLM head's norm.
    public private(set) var mlmEpsilon: Float
    /// The activation when the config names none (bert4keras' `hidden_act` default).
    public let defaultActivation: String

    enum CodingKeys: String, CodingKey {
        case kind, positions, epsilon
        case placement = "norm_placement"
        case embeddingNorm = "embedding_norm"
        case sharedLayers = "shared_layers"
        case embeddingEpsilon = "embedding_epsilon"
        case mlmEpsilon = "mlm_epsilon"
        case defaultActivation = "default_activation"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind)
        positions = try c.decode(Positions.self, forKey: .positions)
        placement = try c.decode(Placement.self, forKey: .placement)
        epsilon = try c.decode(Float.self, forKey: .epsilon)
        embeddingNorm = try c.decodeIfPresent(Bool.self, forKey: .embeddingNorm) ?? false
        sharedLayers = try c.decodeIfPresent(Bool.self, forKey: .sharedLayers) ?? false
        embeddingEpsilon = try c.decodeIfPresent(Float.self, forKey: .embeddingEpsilon) ?? epsilon
        mlmEpsilon = try c.decodeIfPresent(Float.self, forKey: .mlmEpsilon) ?? epsilon
        defaultActivation = try c.decodeIfPresent(String.self, forKey: .defaultActivation) ?? "gelu"
        guard epsilon > 0, embeddingEpsilon > 0, mlmEpsilon > 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .epsilon, in: c, debugDescription: "epsilons must be positive")
        }
    }

    /// The norms' epsilon a transformers config names (`layer_norm_eps`, GPT-2's and T5's
    /// `layer_norm_epsilon`), when it is a usable one.
    public static func configuredEpsilon(_ config: ModelConfig?) -> Double? {
        guard let e = config?.double("layer_norm_eps", "layer_norm_epsilon"), e > 0, e < 1 else { return nil }
        return e
    }

    /// The spec with the epsilon a transformers config gives (`layer_norm_eps`, GPT-2's and T5's
    /// `layer_norm_epsilon`) for every norm, as transformers builds them all from it; bert4keras
    /// configs name none, and the table's values stay.
    public func epsilons(from config: ModelConfig?) -> ArchitectureSpec {
        guard let e = Self.configuredEpsilon(config) else { return self }
        var spec = self
        spec.epsilon = Float(e)
        spec.embeddingEpsilon = Float(e)
        spec.mlmEpsilon = Float(e)
        return spec
    }
}
