import CkptCore
import Foundation

/// What is written beside converted weights: safetensors metadata, `config.json`, vocabularies.
public enum OutputConfig {
    public static let version = "0.1.0"

    public static func metadata(_ setup: ConversionSetup) -> [String: String] {
        [
            // transformers loads safetensors only with format "pt" (or tf/flax/mlx).
            "format": setup.plan.targetLayout == .hf ? "pt" : "ckpt",
            "ckpt_family": setup.plan.family,
            "ckpt_layout": setup.plan.targetLayout.rawValue,
            "source_format": setup.source.formatName,
            "ckpt_version": version,
        ]
    }

    /// For `native`: the source config's keys plus the family. For `hf`: a transformers config
    /// built by the family's `hf_config` table from the source config. For `tf`/`keras` from a
    /// transformers config: the config bert4keras builds the family from (`bert4keras_config`).
    public static func config(_ setup: ConversionSetup) throws -> [String: JSONValue]? {
        var values = setup.config?.values ?? [:]
        if [.tf, .keras].contains(setup.plan.targetLayout), setup.plan.sourceLayout == .hf,
            let template = setup.table.bert4kerasConfig
        {
            values = try template.build(
                from: setup.config, layers: setup.plan.layerCount, nativeShapes: nativeShapes(setup),
                file: setup.source.path)
        }
        if setup.plan.targetLayout == .hf {
            guard let hf = setup.table.hfConfig else {
                throw CkptError(
                    .unsupported, file: setup.source.path, "the \(setup.plan.family) family has no Hugging Face layout")
            }
            // A transformers config (a Hub folder) is already what transformers reads.
            if setup.plan.sourceLayout == .hf, let config = setup.config, config.has("model_type") {
                return config.values
            }
            var out = try hf.build(
                from: setup.config, layers: setup.plan.layerCount, nativeShapes: nativeShapes(setup),
                file: setup.source.path)
            if let name = setup.table.hub?.architecture(natives: setup.plan.outputs.compactMap(\.nativeName)) {
                out["architectures"] = .array([.string(name)])
            }
            return out
        }
        values["ckpt_family"] = .string(setup.plan.family)
        if values["num_hidden_layers"] == nil { values["num_hidden_layers"] = .number(Double(setup.plan.layerCount)) }
        return values
    }

    static func nativeShapes(_ setup: ConversionSetup) -> [String: [Int]] {
        Dictionary(
            setup.plan.outputs.compactMap { o in o.nativeName.map { ($0, o.inputs[0].nativeShape) } },
            uniquingKeysWith: { a, _ in a })
    }

    /// Vocabulary files beside the source (or in the folder given).
    public static func vocabularyFiles(besides path: String, opened: String) -> [String] {
        let folder = FileSystem.isDirectory(path) ? path : FileSystem.dirname(opened)
        return Converter.vocabularyNames.map { FileSystem.join(folder, $0) }.filter(FileSystem.exists)
    }
}

/// How a family's transformers `config.json` is built. For each key, in order: the source config
/// under any of several names (Google, bert4keras, OpenAI, mesh-tf), a dimension of a native
/// tensor (`from_shape`: [name, axis]), a default, or a quotient of two keys already set
/// (`quotients`, e.g. T5's d_kv = d_model / num_heads); else an error naming the key.
public struct HFConfigTemplate: Sendable, Decodable {
    public let constants: [String: JSONValue]
    public let keys: [String: [String]]
    public let fromShape: [String: ShapeRef]?
    public let defaults: [String: JSONValue]?
    public let quotients: [String: [String]]?
    /// Per output key, values said another way in the target (`gelu_new` → `gelu_tanh`).
    public let values: [String: [String: JSONValue]]?
    /// Values the target can only build with (bert4keras' T5 has 32 buckets and a maximum
    /// distance of 128 built in): another value is refused, naming the key.
    public let requires: [String: JSONValue]?

    public struct ShapeRef: Sendable, Decodable {
        public let tensor: String
        public let axis: Int

        public init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            tensor = try c.decode(String.self)
            axis = try c.decode(Int.self)
        }
    }

    enum CodingKeys: String, CodingKey {
        case constants, keys, defaults, quotients, values, requires
        case fromShape = "from_shape"
    }

    func build(from config: ModelConfig?, layers: Int, nativeShapes: [String: [Int]], file: String) throws -> [String:
        JSONValue]
    {
        var out = constants
        for (key, sources) in keys.sorted(by: { $0.key < $1.key }) {
            // A key set to null (GPT-2's `n_inner`) says "the default": the tensors tell it.
            if let v = sources.lazy.compactMap({ config?.values[$0] }).first(where: { $0 != .null }) {
                out[key] = v
            } else if let ref = fromShape?[key], let shape = nativeShapes[ref.tensor], ref.axis < shape.count {
                out[key] = .number(Double(shape[ref.axis]))
            } else if sources.contains("num_hidden_layers") {
                out[key] = .number(Double(layers))
            } else if let d = defaults?[key] {
                out[key] = d
            } else if quotients?[key] == nil {
                throw CkptError(
                    .malformed, file: config?.path ?? file,
                    "config has none of \(sources.joined(separator: ", ")) for the Hugging Face key '\(key)'")
            }
        }
        for (key, pair) in quotients ?? [:] where out[key] == nil {
            guard pair.count == 2, case .number(let a)? = out[pair[0]], case .number(let b)? = out[pair[1]], b > 0
            else {
                throw CkptError(.malformed, file: config?.path ?? file, "cannot derive the Hugging Face key '\(key)'")
            }
            out[key] = .number((a / b).rounded(.down))
        }
        for (key, map) in values ?? [:] {
            if case .string(let v)? = out[key], let said = map[v] { out[key] = said }
        }
        for (key, needed) in (requires ?? [:]).sorted(by: { $0.key < $1.key }) where out[key] != needed {
            throw CkptError(
                .unsupported, file: config?.path ?? file,
                "\(key) is \(out[key].map(\.text) ?? "missing"), and bert4keras builds this family with "
                    + needed.text + " only")
        }
        return out
    }
}

extension ConversionSetup {
    /// Write options with this conversion's metadata, config and the vocabulary files beside
    /// `sourcePath`: what `convert` writes next to the weights.
    public func standardWriteOptions(sourcePath: String) throws -> WriteOptions {
        var w = WriteOptions()
        w.metadata = OutputConfig.metadata(self)
        w.config = try OutputConfig.config(self)
        w.extraFiles = OutputConfig.vocabularyFiles(besides: sourcePath, opened: source.path)
        w.readFiles = source.files + w.extraFiles + (config.map { [$0.path] } ?? [])
        if FileSystem.isDirectory(sourcePath) { w.readFolders = [sourcePath] }
        switch plan.targetLayout {
        case .tf: w.container = .tfBundle
        case .keras:
            w.container = .kerasH5
            w.kerasLayers = try KerasModelLayout.layers(for: plan, table: table, config: config, file: source.path)
        case .gguf:
            // One self-contained file: the vocabulary goes inside (the caller adds its keys).
            w.container = .gguf
            w.config = nil
            w.extraFiles = []
            w.ggufMetadata = try GGUFMetadata.build(self, sourcePath: sourcePath)
            w.ggufTypes = plan.ggufTypes
        default: w.container = .safetensors
        }
        return w
    }
}
