import CkptCore
import CkptFormats

/// How a family is written as GGUF for llama.cpp (`gguf` in a table): the llama.cpp architecture
/// (chosen by the tensors present: T5 with a decoder is `t5`, without one `t5encoder`), the
/// hyper-parameter keys with the GGUF value type llama.cpp's converter stores each as, and the
/// tokenizer kind whose vocabulary goes inside the file.
public struct GGUFTemplate: Sendable, Decodable {
    public struct Architecture: Sendable, Decodable {
        public let arch: String
        /// Native name prefixes that must have a tensor for this architecture.
        public let needs: [String]
    }

    /// One metadata key. Its value, in order: a constant (`value`), the first of the source
    /// config's keys that is set (`config`), a dimension of a native tensor (`shape`), the layer
    /// count (`layers`), a default, a quotient of two earlier keys (`divide`); else an error
    /// unless `optional`. `archs` limits the key to some architectures; `{arch}` in the key is
    /// the architecture.
    public struct Key: Sendable, Decodable {
        public let key: String
        public let type: String
        public let value: JSONValue?
        public let config: [String]?
        public let shape: HFConfigTemplate.ShapeRef?
        public let layers: Bool?
        public let `default`: JSONValue?
        public let archs: [String]?
        public let optional: Bool?
        /// Two keys already written whose quotient is the value (T5's head size).
        public let divide: [String]?
    }

    public let architectures: [Architecture]
    public let metadata: [Key]
    /// `wordpiece` (vocab.txt), `sentencepiece` (spiece.model) or `bpe` (GPT-2's byte-level BPE).
    public let tokenizer: String
    /// Config values a GGUF file implies without a key for them (T5's activation is in its
    /// tensors: `ffn_gate` or not), for reading a GGUF file back.
    public let sourceConfig: [String: JSONValue]?

    enum CodingKeys: String, CodingKey {
        case architectures, metadata, tokenizer
        case sourceConfig = "source_config"
    }

    /// The architecture for a checkpoint with these native names.
    public func architecture(natives: [String]) -> String? {
        architectures.first { a in a.needs.allSatisfy { p in natives.contains { $0.hasPrefix(p) } } }?.arch
    }
}

/// `--dtype` of a GGUF file, as llama.cpp's converter's `--outtype`: the type of the matrices;
/// vectors, norms and the position/token-type tables stay F32.
public enum GGUFFileType: String, Sendable, CaseIterable {
    case f32 = "float32", f16 = "float16", bf16 = "bfloat16", q8_0

    /// `general.file_type` (llama.cpp's `LlamaFileType`: ALL_F32, MOSTLY_F16, MOSTLY_BF16, MOSTLY_Q8_0).
    public var code: UInt32 {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .bf16: return 32
        case .q8_0: return 7
        }
    }

    var matrixType: GGMLType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q8_0: return .q8_0
        }
    }

    /// The file type that keeps a source's float dtype.
    public static func keeping(_ dtype: DType) -> GGUFFileType {
        switch dtype {
        case .float16: return .f16
        case .bfloat16: return .bf16
        default: return .f32
        }
    }
}

/// Which ggml type each GGUF tensor is stored as, by the rules of llama.cpp's converter
/// (`prepare_tensors`): 1-D tensors, `*_norm.weight`, anything not ending in `.weight`, and the
/// position and token-type tables are F32; other matrices take the file type, Q8_0 falling back
/// to F16 where a row is not whole 32-element blocks.
public enum GGUFTensorTypes {
    static let alwaysF32 = ["position_embd.weight", "token_types.weight"]

    public static func type(name: String, shape: [Int], fileType: GGUFFileType) -> GGMLType {
        if shape.count <= 1 || name.hasSuffix("_norm.weight") || !name.hasSuffix(".weight")
            || alwaysF32.contains(name)
        {
            return .f32
        }
        if fileType == .q8_0, (shape.last ?? 0) % Q8_0.blockSize != 0 { return .f16 }
        return fileType.matrixType
    }

    /// The dtype the plan hands the sink for a ggml type (Q8_0 is quantized from float32).
    static func planDType(_ type: GGMLType) -> DType { type.plainDType ?? .float32 }

    /// The plan's outputs with the dtypes their ggml types need, and those types by name.
    static func assign(_ outputs: [PlannedOutput], fileType: GGUFFileType) -> ([PlannedOutput], [String: GGMLType]) {
        var types: [String: GGMLType] = [:]
        let typed = outputs.map { o -> PlannedOutput in
            let t = type(name: o.name, shape: o.shape, fileType: fileType)
            types[o.name] = t
            return o.with(dtype: planDType(t))
        }
        return (typed, types)
    }
}
