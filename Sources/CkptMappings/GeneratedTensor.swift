import CkptCore

/// A tensor computed from the config rather than read: NEZHA's relative-position table, which
/// bert4keras keeps as a non-trainable Keras weight (so its HDF5 files hold it and `load_weights`
/// expects it) while TF checkpoints never do.
public struct GeneratedTensorRule: Sendable, Decodable {
    /// The name in the layout that needs it (`LAYER#k` for Keras).
    public let name: String
    /// `sinusoidal`: row p = [sin(p·w₀), cos(p·w₀), sin(p·w₁), …], wᵢ = 10000^(−2i/columns)
    /// (bert4keras backend.py sinusoidal_embeddings, the `Sinusoidal` initializer);
    /// `sinusoidal_halves`: the sines, then the cosines (transformers' RoFormer).
    public let kind: String
    /// A fixed row count, or `max_positions`: the rows of the position table (the config's
    /// `max_position_embeddings`).
    public let rows: Rows

    public enum Rows: Sendable, Decodable {
        case fixed(Int)
        case maxPositions

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int.self) {
                self = .fixed(n)
            } else if try c.decode(String.self) == "max_positions" {
                self = .maxPositions
            } else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "rows: a number or max_positions")
            }
        }
    }
    /// `head_size`: the attention key size (config `attention_key_size`, else hidden size / heads).
    public let columns: String
}

/// What a generated output holds, resolved against the config.
public enum TensorGenerator: Sendable, Equatable {
    case sinusoidal(rows: Int, columns: Int)
    case sinusoidalHalves(rows: Int, columns: Int)

    public var shape: [Int] {
        switch self {
        case .sinusoidal(let r, let c), .sinusoidalHalves(let r, let c): return [r, c]
        }
    }

    /// The float32 values, row-major.
    public func values() -> [Float] {
        switch self {
        case .sinusoidal(let rows, let columns): return SinusoidalTable.values(rows: rows, columns: columns)
        case .sinusoidalHalves(let rows, let columns): return SinusoidalTable.halves(rows: rows, columns: columns)
        }
    }

    /// Resolves a rule's sizes from the config.
    static func resolve(_ rule: GeneratedTensorRule, config: ModelConfig?, file: String) throws -> TensorGenerator {
        guard rule.kind == "sinusoidal" || rule.kind == "sinusoidal_halves" else {
            throw CkptError(.unsupported, file: file, tensor: rule.name, "unknown generated tensor kind '\(rule.kind)'")
        }
        let rows: Int
        switch rule.rows {
        case .fixed(let n): rows = n
        case .maxPositions:
            guard let n = config?.int("max_position_embeddings", "n_positions"), n > 0, n <= 1 << 20 else {
                throw CkptError(
                    .malformed, file: file, tensor: rule.name,
                    "computing it needs the config's max_position_embeddings; give --config")
            }
            rows = n
        }
        func make(_ columns: Int) -> TensorGenerator {
            rule.kind == "sinusoidal"
                ? .sinusoidal(rows: rows, columns: columns)
                : .sinusoidalHalves(rows: rows, columns: columns)
        }
        guard rule.columns == "head_size" else {
            throw CkptError(.unsupported, file: file, tensor: rule.name, "unknown column size '\(rule.columns)'")
        }
        if let k = config?.int("attention_key_size") { return make(k) }
        guard let heads = config?.int("num_attention_heads", "n_head", "num_heads"),
            let hidden = config?.int("hidden_size", "d_model", "n_embd"), heads > 0, hidden % heads == 0
        else {
            throw CkptError(
                .malformed, file: file, tensor: rule.name,
                "computing it needs the config's num_attention_heads (and hidden_size); give --config")
        }
        return make(hidden / heads)
    }
}
