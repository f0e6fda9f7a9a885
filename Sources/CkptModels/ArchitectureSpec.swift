/// How each family assembles the shared building blocks — read from bert4keras/models.py
/// (`apply_embeddings`, `apply_main_layers`, `apply_final_layers` of each class). A table, so
/// the forward pass has no per-family branches of its own.
public struct ArchitectureSpec: Sendable {
    public enum Kind: Sendable { case encoder, decoder, encoderDecoder }
    public enum Positions: Sendable {
        /// Learned absolute embeddings added to the tokens.
        case absolute
        /// NEZHA: sinusoidal relative embeddings (2·64+1 rows) on keys and values (RelativePositionEmbedding).
        case relative
        /// RoFormer: rotary embeddings on queries and keys (apply_rotary_position_embeddings).
        case rotary
        /// T5: bucketed relative attention bias (RelativePositionEmbeddingT5), 32 buckets, distance 128.
        case t5Buckets
    }
    /// Where the layer norms sit: BERT's Att→Add→LN→FFN→Add→LN; GPT-2's LN→Att→Add→LN→FFN→Add;
    /// GPT2-ML's Att→Add→LN0→FFN→Add(with pre-LN0)→LN1.
    public enum Placement: Sendable { case post, pre, gpt2ml }

    public let kind: Kind
    public let positions: Positions
    public let placement: Placement
    public let epsilon: Float
    public let embeddingNorm: Bool
    /// ALBERT: one set of layer weights used by every layer (`encoder.layers.0`).
    public let sharedLayers: Bool
    /// Layer-norm epsilon of the embedding LN when it differs (bert4keras passes 1e-12 there).
    public let embeddingEpsilon: Float

    /// bert4keras leaves ALBERT's, NEZHA's and RoFormer's layer norms at Keras' default epsilon
    /// (1e-7) but gives their embedding and MLM norms 1e-12 (ALBERT/NEZHA.apply_main_layers,
    /// BERT.apply_embeddings); ALBERT_Unshared runs BERT's layers (1e-12).
    public static let table: [String: ArchitectureSpec] = [
        "bert": .init(kind: .encoder, positions: .absolute, placement: .post, epsilon: 1e-12, embeddingNorm: true, sharedLayers: false, embeddingEpsilon: 1e-12),
        "albert": .init(kind: .encoder, positions: .absolute, placement: .post, epsilon: 1e-7, embeddingNorm: true, sharedLayers: true, embeddingEpsilon: 1e-12),
        "albert_unshared": .init(kind: .encoder, positions: .absolute, placement: .post, epsilon: 1e-12, embeddingNorm: true, sharedLayers: false, embeddingEpsilon: 1e-12),
        "electra": .init(kind: .encoder, positions: .absolute, placement: .post, epsilon: 1e-12, embeddingNorm: true, sharedLayers: false, embeddingEpsilon: 1e-12),
        "nezha": .init(kind: .encoder, positions: .relative, placement: .post, epsilon: 1e-7, embeddingNorm: true, sharedLayers: false, embeddingEpsilon: 1e-12),
        "roformer": .init(kind: .encoder, positions: .rotary, placement: .post, epsilon: 1e-7, embeddingNorm: true, sharedLayers: false, embeddingEpsilon: 1e-12),
        "gpt": .init(kind: .decoder, positions: .absolute, placement: .post, epsilon: 1e-12, embeddingNorm: false, sharedLayers: false, embeddingEpsilon: 1e-12),
        "gpt2": .init(kind: .decoder, positions: .absolute, placement: .pre, epsilon: 1e-5, embeddingNorm: false, sharedLayers: false, embeddingEpsilon: 1e-5),
        "gpt2_ml": .init(kind: .decoder, positions: .absolute, placement: .gpt2ml, epsilon: 1e-5, embeddingNorm: true, sharedLayers: false, embeddingEpsilon: 1e-5),
        "t5.1.0": .init(kind: .encoderDecoder, positions: .t5Buckets, placement: .pre, epsilon: 1e-6, embeddingNorm: false, sharedLayers: false, embeddingEpsilon: 1e-6),
        "t5.1.1": .init(kind: .encoderDecoder, positions: .t5Buckets, placement: .pre, epsilon: 1e-6, embeddingNorm: false, sharedLayers: false, embeddingEpsilon: 1e-6),
    ]
}
