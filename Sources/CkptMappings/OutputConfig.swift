import CkptCore
import Foundation

/// What is written beside converted weights: safetensors metadata, `config.json`, vocabularies.
public enum OutputConfig {
    public static let version = "0.1.0"

    public static func metadata(_ setup: ConversionSetup) -> [String: String] {
        [
            // transformers loads safetensors only with format "pt" (or tf/flax/mlx).
            "format": setup.plan.targetLayout == "hf" ? "pt" : "ckpt",
            "ckpt_family": setup.plan.family,
            "ckpt_layout": setup.plan.targetLayout,
            "source_format": setup.source.formatName,
            "ckpt_version": version,
        ]
    }

    /// For `native`: the source config's keys plus the family. For `hf`: a transformers config
    /// built by the family's `hf_config` table from the source config.
    public static func config(_ setup: ConversionSetup) throws -> [String: JSONValue]? {
        var values = setup.config?.values ?? [:]
        if setup.plan.targetLayout == "hf" {
            guard let hf = setup.table.hfConfig else {
                throw CkptError(.unsupported, file: setup.source.path, "the \(setup.plan.family) family has no Hugging Face layout")
            }
            return try hf.build(from: setup.config, layers: setup.plan.layerCount, file: setup.source.path)
        }
        values["ckpt_family"] = .string(setup.plan.family)
        if values["num_hidden_layers"] == nil { values["num_hidden_layers"] = .number(Double(setup.plan.layerCount)) }
        return values
    }

    /// Vocabulary files beside the source (or in the folder given).
    public static func vocabularyFiles(besides path: String, opened: String) -> [String] {
        let folder = FileSystem.isDirectory(path) ? path : FileSystem.dirname(opened)
        return Converter.vocabularyNames.map { FileSystem.join(folder, $0) }.filter(FileSystem.exists)
    }
}

/// How a family's transformers `config.json` is built: fixed values, and keys read from the
/// source config under any of several names (Google, bert4keras, OpenAI, mesh-tf).
public struct HFConfigTemplate: Sendable, Decodable {
    public let constants: [String: JSONValue]
    /// transformers key to the source keys that may hold it, first found wins.
    public let keys: [String: [String]]
    /// transformers key to a value used when the source has none of its keys.
    public let defaults: [String: JSONValue]?

    func build(from config: ModelConfig?, layers: Int, file: String) throws -> [String: JSONValue] {
        var out = constants
        for (key, sources) in keys {
            if let v = sources.lazy.compactMap({ config?.values[$0] }).first {
                out[key] = v
            } else if let d = defaults?[key] {
                out[key] = d
            } else if sources.contains("num_hidden_layers") {
                out[key] = .number(Double(layers))
            } else {
                throw CkptError(.malformed, file: config?.path ?? file,
                                "config has none of \(sources.joined(separator: ", ")) for the Hugging Face key '\(key)'")
            }
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
        return w
    }
}
