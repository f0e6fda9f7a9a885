import CkptCore
import Foundation

/// A model's hyper-parameters as the checkpoint's JSON config gives them (Google's
/// `bert_config.json`, bert4keras configs, OpenAI's `hparams.json`, transformers' `config.json`).
public struct ModelConfig: Sendable {
    /// Where it was read from.
    public let path: String
    public let values: [String: JSONValue]

    /// Config file names looked for beside a checkpoint, in order.
    public static let fileNames = [
        "config.json", "bert_config.json", "albert_config.json", "electra_config.json",
        "hparams.json", "operative_config.json",
    ]

    public init(path: String, values: [String: JSONValue]) {
        self.path = path
        self.values = values
    }

    public init(path: String) throws {
        let text = try FileSystem.readText(path)
        guard case .object(let v)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
            throw CkptError(.malformed, file: path, "config is not a JSON object")
        }
        self.init(path: path, values: v)
    }

    /// The first known config file in `folder`, if any.
    public static func find(besides folder: String) throws -> ModelConfig? {
        for name in fileNames where FileSystem.exists(FileSystem.join(folder, name)) {
            return try ModelConfig(path: FileSystem.join(folder, name))
        }
        return nil
    }

    public func has(_ key: String) -> Bool { values[key] != nil }

    public func string(_ key: String) -> String? {
        if case .string(let s)? = values[key] { return s }
        return nil
    }

    /// The first of `keys` holding an integer.
    public func int(_ keys: String...) -> Int? {
        for k in keys {
            if case .number(let d)? = values[k], d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        }
        return nil
    }

    /// The first of `keys` holding a number.
    public func double(_ keys: String...) -> Double? {
        for k in keys {
            if case .number(let d)? = values[k] { return d }
        }
        return nil
    }

    /// Number of layers, under any of the names the families' configs use.
    public var layerCount: Int? { int("num_hidden_layers", "num_layers", "n_layer") }
}

/// JSON values, kept as parsed so a config can be written back with its own keys.
public enum JSONValue: Sendable, Codable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// The value as JSON text, for messages.
    public var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .string(let s): return s
        case .array(let a): return "[" + a.map(\.text).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().joined(separator: ", ") + "}"
        }
    }

    /// As Foundation values, for `JSONDocument` (whole numbers as integers, as `encode` writes them).
    public var foundationValue: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? Int(d) : d
        case .string(let s): return s
        case .array(let a): return a.map(\.foundationValue)
        case .object(let o): return o.mapValues(\.foundationValue)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): if d == d.rounded() && abs(d) < 1e15 { try c.encode(Int(d)) } else { try c.encode(d) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
