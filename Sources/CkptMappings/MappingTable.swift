import CkptCore
import CkptTableMerge
import Foundation

/// The Hub's ways of naming a family's tensors (`hub` in a table).
public struct HubNames: Sendable, Decodable {
    /// transformers' `model_type` values of this family (config.json).
    public let modelTypes: [String]?
    /// The prefix the head classes put before the base model's names (`bert.`); a file saved from
    /// the base-model class (`BertModel`) lacks it.
    public let basePrefix: String?
    /// Buffers and generated tables transformers saves but recomputes (`*.position_ids`): dropped.
    public let buffers: [String]?
    /// Task heads bert4keras has no layer for (`classifier.*`): kept for `native`/`hf`, dropped for
    /// `tf`/`keras`, never needed by the forward pass.
    public let taskHeads: [String]?
    /// transformers classes for `architectures`, most heads first: the first whose needed native
    /// name prefixes all have a tensor is the class a converted checkpoint loads into.
    public let architectures: [Architecture]?

    public struct Architecture: Sendable, Decodable {
        public let `class`: String
        public let needs: [String]
    }

    enum CodingKeys: String, CodingKey {
        case modelTypes = "model_types"
        case basePrefix = "base_prefix"
        case buffers, architectures
        case taskHeads = "task_heads"
    }

    /// The class of `architectures` for a checkpoint with these native names.
    public func architecture(natives: [String]) -> String? {
        architectures?.first { a in a.needs.allSatisfy { p in natives.contains { $0.hasPrefix(p) } } }?.class
    }

    public func isBuffer(_ name: String) -> Bool { (buffers ?? []).contains { Glob.matches($0, name) } }
    public func isTaskHead(_ name: String) -> Bool { (taskHeads ?? []).contains { Glob.matches($0, name) } }
}

/// One model family's table from `Mappings/<family>.json`, compiled into the binary (or given
/// with `--mapping FILE`). See docs/mappings.md for the format.
public struct MappingTable: Sendable, Decodable {
    /// Names a checkpoint of this family must hold (`require`) and must not hold (`forbid`) in one
    /// naming layout; `*` and `?` are globs.
    public struct Signature: Sendable, Decodable {
        public let require: [String]
        public let forbid: [String]?
    }

    /// Config keys or values that identify the family when names cannot (NEZHA vs RoFormer).
    public struct ConfigSignature: Sendable, Decodable {
        public let keys: [String]?
        public let values: [String: String]?
    }

    public let family: String
    public let description: String
    /// Layout name to the signature of that layout.
    public let detect: [String: Signature]
    public let configSignature: ConfigSignature?
    public let rules: [MappingRule]
    /// Per layout, source tensors that are derived rather than learned (NEZHA's sinusoidal
    /// relative-position table in bert4keras' Keras files): dropped, and reported as such.
    public let derived: [String: [String]]?
    /// Hugging Face names that transformers ties to another weight (not written, as
    /// `save_pretrained` does not write them either).
    public let hfTied: [String: String]?
    /// How to write transformers' `config.json` for this family.
    public let hfConfig: HFConfigTemplate?
    /// How to write the config bert4keras builds this family from, out of a transformers config.
    public let bert4kerasConfig: HFConfigTemplate?
    /// The bert4keras model's layer graph, for the Keras writer's layer order.
    public let kerasGraph: KerasGraph?
    /// Per layout, tensors a file of that layout needs that no checkpoint of another layout holds
    /// (NEZHA's sinusoidal table), and how to compute them.
    public let generated: [String: [GeneratedTensorRule]]?
    /// How the forward pass composes the blocks; nil for a family ckpt only converts.
    public let forward: ArchitectureSpec?
    /// How the Hugging Face Hub publishes this family beyond the `hf` names of the rules.
    public let hub: HubNames?
    /// How the family is written for llama.cpp; nil when llama.cpp has no such architecture.
    public let gguf: GGUFTemplate?

    enum CodingKeys: String, CodingKey {
        case family, description, detect, rules, derived, generated, forward, hub, gguf
        case kerasGraph = "keras_graph"
        case configSignature = "config_signature"
        case hfTied = "hf_tied"
        case hfConfig = "hf_config"
        case bert4kerasConfig = "bert4keras_config"
    }

    /// Every table compiled in, sorted by family. Decoded on every core at once: JSONDecoder
    /// takes ~6 ms for the 11 tables, a third of `inspect`'s run.
    public static let builtIn: [MappingTable] = {
        let names = EmbeddedMappings.files.keys.sorted()
        let decoded = ConcurrentSlots<MappingTable>(count: names.count)
        DispatchQueue.concurrentPerform(iterations: names.count) { i in
            do {
                decoded.set(
                    i,
                    try MappingTable.parse(Data(EmbeddedMappings.files[names[i]]!.utf8), origin: "Mappings/\(names[i])")
                )
            } catch {
                // The tables are part of the source; a broken one is a build defect the tests catch.
                fatalError("\(error)")
            }
        }
        return decoded.all
    }()

    /// The tables of `--mapping` files.
    public static func load(_ paths: [String]) throws -> [MappingTable] {
        try paths.map { try parse(Data(MappedFile.contents(of: $0)), origin: $0) }
    }

    /// A table from its JSON; `extends` is resolved against the built-in tables (and `among`).
    public static func parse(_ data: Data, origin: String, among others: [Data] = []) throws -> MappingTable {
        do {
            // Most tables extend none (the built-in ones are embedded resolved): decode them once.
            guard Self.mentionsExtends(data),
                let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], object["extends"] != nil
            else { return try JSONDecoder().decode(MappingTable.self, from: data) }
            // The built-in tables are embedded resolved (the build plugin ran the same merge).
            let resolved = try TableInheritance.resolve(object, origin: origin) { name in
                let candidates =
                    (EmbeddedMappings.files["\(name).json"].map { [Data($0.utf8)] } ?? []) + others
                    + EmbeddedMappings.files.values.map { Data($0.utf8) }
                return candidates.lazy.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
                    .first { $0["family"] as? String == name }
            }
            return try JSONDecoder().decode(MappingTable.self, from: JSONSerialization.data(withJSONObject: resolved))
        } catch let error as CkptError {
            throw error
        } catch let error as TableInheritance.Failure {
            throw CkptError(.malformed, file: origin, "not a valid mapping table: \(error)")
        } catch {
            throw CkptError(.malformed, file: origin, "not a valid mapping table: \(error)")
        }
    }

    /// Whether the bytes hold `"extends"` (a byte scan: Foundation's generic search was 8 % of
    /// `inspect`'s time).
    static func mentionsExtends(_ data: Data) -> Bool {
        let key = Array("\"extends\"".utf8)
        return data.withUnsafeBytes { raw in
            guard raw.count >= key.count else { return false }
            for i in 0...(raw.count - key.count) where raw[i] == key[0] {
                var k = 1
                while k < key.count && raw[i + k] == key[k] { k += 1 }
                if k == key.count { return true }
            }
            return false
        }
    }

    /// `extra` tables (a user's `--mapping`) with the built-in ones they do not replace.
    public static func with(_ extra: [MappingTable]) -> [MappingTable] {
        extra + builtIn.filter { t in !extra.contains { $0.family == t.family } }
    }

    public static func named(_ family: String, among tables: [MappingTable] = builtIn) -> MappingTable? {
        tables.first { $0.family == family }
    }

    /// Whether a canonical weight has a name in `layout` (`native` names every one): RoFormer's
    /// pooler has none in transformers' layout, for example.
    public func hasName(forNative native: String, in layout: Layout, layers: Int) -> Bool {
        guard layout != .native else { return true }
        return rules.contains { rule in
            rule.layouts[layout] != nil
                && (0..<max(1, layers)).contains { LayerTemplate.expand(rule.native, layer: $0) == native }
        }
    }

    /// Layouts this table names tensors in (besides `native`).
    public var layouts: Set<Layout> { Set(rules.flatMap { $0.layouts.keys }) }
}

/// One weight: its canonical (native) name and its name and transform in each layout.
public struct MappingRule: Sendable, Decodable {
    public let native: String
    /// `tf`, `openai`, `keras`, `hf`... to the name in that layout.
    public let layouts: [Layout: LayoutName]
    /// The axis of the native tensor indexed by the vocabulary (pruning).
    public let vocabAxis: Int?
    /// Heads and poolers: a checkpoint may lack them.
    public let optional: Bool

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        native = try c.decode(String.self, forKey: Key(stringValue: "native"))
        vocabAxis = try c.decodeIfPresent(Int.self, forKey: Key(stringValue: "vocab_axis"))
        optional = try c.decodeIfPresent(Bool.self, forKey: Key(stringValue: "optional")) ?? false
        var layouts: [Layout: LayoutName] = [:]
        for k in c.allKeys where !["native", "vocab_axis", "optional"].contains(k.stringValue) {
            layouts[Layout(k.stringValue)] = try c.decode(LayoutName.self, forKey: k)
        }
        self.layouts = layouts
    }
}

/// A weight's name in one layout and how its values relate to the native tensor: read from the
/// layout, `squeeze` drops a leading size-1 axis, `part` takes part `index` of `count` equal parts
/// along `axis` (fused q/k/v), `transpose` swaps the two axes of a matrix.
public struct LayoutName: Sendable, Decodable, Equatable {
    public struct Part: Sendable, Equatable {
        public let index: Int
        public let count: Int
        public let axis: Int
    }

    public let template: String
    public let transpose: Bool
    public let squeeze: Int?
    public let part: Part?

    enum CodingKeys: String, CodingKey { case name, transpose, squeeze, part }

    public init(template: String, transpose: Bool = false, squeeze: Int? = nil, part: Part? = nil) {
        self.template = template
        self.transpose = transpose
        self.squeeze = squeeze
        self.part = part
    }

    public init(from decoder: any Decoder) throws {
        if let s = try? decoder.singleValueContainer().decode(String.self) {
            self.init(template: s)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var part: Part?
        if let p = try c.decodeIfPresent([Int].self, forKey: .part) {
            guard p.count == 3, p[1] > 0, p[0] >= 0, p[0] < p[1], p[2] >= 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .part, in: c, debugDescription: "part is [index, count, axis]")
            }
            part = Part(index: p[0], count: p[1], axis: p[2])
        }
        self.init(
            template: try c.decode(String.self, forKey: .name),
            transpose: try c.decodeIfPresent(Bool.self, forKey: .transpose) ?? false,
            squeeze: try c.decodeIfPresent(Int.self, forKey: .squeeze), part: part)
    }

    /// True when names and bytes are the same as the native tensor's layout.
    public var isIdentity: Bool { !transpose && squeeze == nil && part == nil }
}

/// Layer-index templates: `{i}`, or `{i:02}` / `{i:03}` for zero-padded indexes.
public enum LayerTemplate {
    /// Byte scans, not `String.contains` / `range(of:)`: with Foundation imported those go through
    /// CFString search, which dominated `inspect`'s profile (detection expands every rule).
    public static func hasIndex(_ template: String) -> Bool {
        var previous: UInt8 = 0
        for b in template.utf8 {
            if previous == UInt8(ascii: "{") && b == UInt8(ascii: "i") { return true }
            previous = b
        }
        return false
    }

    public static func expand(_ template: String, layer: Int) -> String {
        guard hasIndex(template) else { return template }
        let bytes = Array(template.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 4)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "{"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "i"),
                let close = bytes[(i + 2)...].firstIndex(of: UInt8(ascii: "}"))
            {
                let spec = bytes[(i + 2)..<close]  // "" or ":02"
                var width = 0
                if spec.starts(with: [UInt8(ascii: ":"), UInt8(ascii: "0")]) {
                    width = Int(String(decoding: spec.dropFirst(2), as: UTF8.self)) ?? 0
                }
                let digits = Array(String(layer).utf8)
                out += [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - digits.count)) + digits
                i = close + 1
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
