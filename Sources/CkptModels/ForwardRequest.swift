import CkptCore

/// bert4keras' `application` argument: plain encoder, causal language model, or UniLM (mask
/// from segment ids). `lm` and `unilm` bring the MLM head with them, as in bert4keras.
public enum Application: String, Sendable, CaseIterable {
    case encoder, lm, unilm
}

/// Output heads of the encoder families (bert4keras with_pool / with_nsp / with_mlm / with_discriminator).
public enum Head: String, Sendable, CaseIterable {
    case pool, nsp, mlm, discriminator
}

/// How T5's decoder is computed where bert4keras and transformers define it differently.
public enum T5Convention: String, Sendable, CaseIterable {
    /// bert4keras: the decoder's relative bias is added to cross-attention too, and the output is
    /// scaled by d_model^-0.5 before the LM head, also for untied (T5.1.1, mT5) heads.
    case bert4keras
    /// transformers: no position bias in cross-attention; the output is scaled only when the LM
    /// head is the token embedding (`tie_word_embeddings`).
    case transformers
}

public struct ForwardRequest: Sendable {
    public var tokens: [Int]
    public var segments: [Int]?
    public var decoderTokens: [Int]?
    public var application: Application
    public var heads: Set<Head>
    /// T5's decoder convention; nil for the model's own (transformers' for a Hugging Face source).
    public var t5Convention: T5Convention?

    public init(
        tokens: [Int], segments: [Int]? = nil, decoderTokens: [Int]? = nil, application: Application = .encoder,
        heads: Set<Head> = [], t5Convention: T5Convention? = nil
    ) {
        self.t5Convention = t5Convention
        self.tokens = tokens
        self.segments = segments
        self.decoderTokens = decoderTokens
        self.application = application
        self.heads = heads
    }
}

/// Named outputs, each without the batch axis (`hidden`, `pooled`, `nsp_probs`, `mlm_probs`,
/// `discriminator_probs`, `lm_probs`, `encoder_hidden`, `decoder_hidden`, `decoder_probs`).
public struct ForwardOutputs: Sendable {
    public struct Array_: Sendable {
        public let name: String
        public let shape: [Int]
        public let values: [Float]
    }

    public private(set) var arrays: [Array_] = []

    mutating func add(_ name: String, _ m: Matrix) {
        arrays.append(Array_(name: name, shape: [m.rows, m.cols], values: m.data.array))
    }
    mutating func add(_ name: String, vector: [Float]) {
        arrays.append(Array_(name: name, shape: [vector.count], values: vector))
    }

    public subscript(name: String) -> Array_? { arrays.first { $0.name == name } }
}
