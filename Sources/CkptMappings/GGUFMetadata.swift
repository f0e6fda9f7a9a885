import CkptCore
import CkptFormats
import Foundation

extension GGUFValue {
    /// A scalar of `type` from a JSON number, flag or string (the family tables give
    /// hyper-parameters as JSON and name the GGUF type beside them); nil when it does not fit.
    public static func scalar(_ value: JSONValue, as type: GGUFValueType) -> GGUFValue? {
        switch (type, value) {
        case (.bool, .bool(let b)): return .bool(b)
        case (.string, .string(let s)): return .text(s)
        case (.float32, .number(let d)): return .float32(Float(d))
        case (.float64, .number(let d)): return .float64(d)
        case (_, .number(let d)):
            guard let i = Int64(exactly: d) else { return nil }
            switch type {
            case .uint8: return UInt8(exactly: i).map(GGUFValue.uint8)
            case .int8: return Int8(exactly: i).map(GGUFValue.int8)
            case .uint16: return UInt16(exactly: i).map(GGUFValue.uint16)
            case .int16: return Int16(exactly: i).map(GGUFValue.int16)
            case .uint32: return UInt32(exactly: i).map(GGUFValue.uint32)
            case .int32: return Int32(exactly: i).map(GGUFValue.int32)
            case .uint64: return UInt64(exactly: i).map(GGUFValue.uint64)
            case .int64: return .int64(i)
            default: return nil
            }
        default: return nil
        }
    }
}

/// The model half of a GGUF file's metadata: `general.*` and the architecture's
/// hyper-parameters, from the family's `gguf` table, the source config and the tensors. (The
/// tokenizer half comes from the vocabulary files: CkptVocab's `GGUFVocabulary`.)
public enum GGUFMetadata {
    /// llama.cpp's `GGML_QUANT_VERSION`.
    static let quantizationVersion: UInt32 = 2

    /// The llama.cpp architecture of this conversion.
    public static func architecture(_ setup: ConversionSetup) throws -> String {
        guard let gguf = setup.table.gguf,
            let arch = gguf.architecture(natives: setup.plan.outputs.compactMap(\.nativeName))
        else { throw unsupported(setup.table.family, file: setup.source.path) }
        return arch
    }

    /// Exit 2: llama.cpp has no architecture for this family.
    static func unsupported(_ family: String, file: String) -> CkptError {
        CkptError(
            .badUsage, file: file,
            "llama.cpp runs bert, gpt2, t5 (t5.1.0, t5.1.1, mT5) and encoder-only t5 models; "
                + "the \(family) family has no GGUF architecture")
    }

    public static func build(_ setup: ConversionSetup, sourcePath: String) throws -> [(key: String, value: GGUFValue)] {
        let arch = try architecture(setup)
        let template = setup.table.gguf!
        let natives = OutputConfig.nativeShapes(setup)
        // The model's folder: its name is the converter's fallback name, and it may hold a pooling module.
        let folder = FileSystem.isDirectory(sourcePath) ? sourcePath : FileSystem.dirname(sourcePath)
        var out: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .text(arch)),
            ("general.type", .text("model")),
            ("general.name", .text(URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent)),
            ("general.size_label", .text(sizeLabel(setup.plan.outputs.reduce(0) { $0 + $1.shape.reduce(1, *) }))),
        ]
        for spec in template.metadata where spec.archs?.contains(arch) ?? true {
            let key = spec.key.replacingOccurrences(of: "{arch}", with: arch)
            guard let type = GGUFValueType(name: spec.type) else {
                throw CkptError(
                    .malformed, file: "Mappings/\(setup.table.family).json", "gguf key \(key): type \(spec.type)")
            }
            let quotient = spec.divide.flatMap { pair -> JSONValue? in
                let keys = pair.map { $0.replacingOccurrences(of: "{arch}", with: arch) }
                let terms = keys.compactMap { k in out.first { $0.key == k }?.value.number }
                return terms.count == 2 && terms[1] > 0 ? .number((terms[0] / terms[1]).rounded(.down)) : nil
            }
            guard
                let json = value(spec, config: setup.config, natives: natives, layers: setup.plan.layerCount)
                    ?? quotient
            else {
                if spec.optional ?? false { continue }
                throw CkptError(
                    .malformed, file: setup.config?.path ?? setup.source.path,
                    "no value for the GGUF key \(key): the config has none of "
                        + (spec.config ?? []).joined(separator: ", "))
            }
            guard let v = GGUFValue.scalar(json, as: type) else {
                throw CkptError(
                    .malformed, file: setup.config?.path ?? setup.source.path,
                    "\(key) is \(json.text), not a \(type.name)")
            }
            out.append((key, v))
        }
        if let pooling = try poolingType(in: folder) { out.append(("\(arch).pooling_type", .uint32(pooling))) }
        out.append(("general.file_type", .uint32(setup.plan.ggufFileType?.code ?? 0)))
        out.append(("general.quantization_version", .uint32(quantizationVersion)))
        return out
    }

    static func value(_ spec: GGUFTemplate.Key, config: ModelConfig?, natives: [String: [Int]], layers: Int)
        -> JSONValue?
    {
        if let v = spec.value { return v }
        if let v = (spec.config ?? []).lazy.compactMap({ config?.values[$0] }).first(where: { $0 != .null }) {
            return v
        }
        if let ref = spec.shape, let shape = natives[ref.tensor], ref.axis < shape.count {
            return .number(Double(shape[ref.axis]))
        }
        if spec.layers ?? false { return .number(Double(layers)) }
        return spec.default
    }

    /// The parameter count as gguf-py's `size_label` writes it: `22K`, `110M`, `1.5B` (at least
    /// two significant digits).
    static func sizeLabel(_ count: Int) -> String {
        let n = Double(count)
        let (limit, suffix) = [(1e12, "T"), (1e9, "B"), (1e6, "M")].first { n > $0.0 } ?? (1e3, "K")
        let scaled = n * [1e12: 1e-12, 1e9: 1e-9, 1e6: 1e-6, 1e3: 1e-3][limit]!  // as gguf-py scales
        let digits = String(Int(scaled.rounded(.toNearestOrEven))).drop { $0 == "0" }.count
        return String(format: "%.\(max(2 - digits, 0))f", scaled) + suffix
    }

    /// A sentence-transformers pooling module beside the source (`modules.json` naming a
    /// `*Pooling` module whose `config.json` sets the mode): llama.cpp's `pooling_type`.
    static func poolingType(in folder: String) throws -> UInt32? {
        let modulesPath = FileSystem.join(folder, "modules.json")
        guard FileSystem.exists(modulesPath) else { return nil }
        guard
            case .array(let modules)? = try? JSONDecoder().decode(
                JSONValue.self, from: Data(MappedFile.contents(of: modulesPath))),
            let pooling = modules.lazy.compactMap({ m -> String? in
                guard case .object(let o) = m, case .string(let type)? = o["type"], type.hasSuffix("Pooling"),
                    case .string(let path)? = o["path"]
                else { return nil }
                return path
            }).first
        else { return nil }
        let config = try ModelConfig(path: FileSystem.join(FileSystem.join(folder, pooling), "config.json"))
        func on(_ key: String) -> Bool { config.values[key] == .bool(true) }
        if on("pooling_mode_mean_tokens") { return 1 }
        if on("pooling_mode_cls_token") { return 2 }
        if on("pooling_mode_lasttoken") { return 3 }
        switch config.string("pooling_mode") {
        case "mean": return 1
        case "cls": return 2
        case "lasttoken": return 3
        default:
            throw CkptError(.unsupported, file: config.path, "llama.cpp pools by mean, cls or lasttoken only")
        }
    }

    /// A GGUF file's hyper-parameters as a config: each key the family's table writes, read back
    /// under the first config key it names (`bert.attention.head_count` → `num_attention_heads`).
    public static func config(of reader: GGUFReader, template: GGUFTemplate) -> ModelConfig? {
        guard let arch = reader.header.value("general.architecture")?.stringValue else { return nil }
        var values = template.sourceConfig ?? [:]
        for spec in template.metadata {
            let key = spec.key.replacingOccurrences(of: "{arch}", with: arch)
            guard let name = spec.config?.first, let v = reader.header.value(key) else { continue }
            if case .bool(let b) = v {
                values[name] = .bool(b)
            } else if let n = v.number {
                // A float32 epsilon read back as the decimal it was written from (1e-12, not 9.99e-13).
                values[name] = .number(v.type == .float32 ? Double(String(Float(n)))! : n)
            }
        }
        return ModelConfig(path: reader.path, values: values)
    }
}
