import CkptCore
import Foundation

/// Which ids play the special roles and which of them the tokenizer adds, decided as llama.cpp's
/// converter decides (gguf-py `SpecialVocab`): roles named in `tokenizer_config.json` and found
/// among `tokenizer.json`'s added tokens (`cls` standing in for `bos`, `sep` for `eos`), the
/// post-processor's template for what is added, then `config.json`'s `*_token_id`; and
/// `tokenizer.json`'s normalizer for lower-casing. A source without tokenizer files (a TF
/// release) gets the files transformers' tokenizer class would write for its vocabulary.
struct GGUFSpecialTokens {
    static let roles = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"]

    /// What the tokenizer files say, as SpecialVocab reads them.
    struct Files {
        var tokenizerJSON: [String: Any]?
        var tokenizerConfig: [String: Any]?
        var modelConfig: [String: Any]?
    }

    private(set) var ids: [(role: String, id: Int)] = []
    private(set) var add: [(role: String, value: Bool)] = []
    private(set) var lowercase: Bool?
    private(set) var stripAccents: Bool?

    init(_ files: Files, vocabularySize: Int) {
        var config = files.tokenizerConfig
        var added: [[String: Any]] = []
        if let tj = files.tokenizerJSON {
            if let normalizer = tj["normalizer"] as? [String: Any] { parseNormalizer(normalizer) }
            added = tj["added_tokens"] as? [[String: Any]] ?? []
            Self.fillInFallbacks(&config)
            if let pp = tj["post_processor"] as? [String: Any] { readPostProcessor(pp, config: &config) }
        }
        if let config {
            for role in Self.roles {
                if let flag = config["add_\(role)_token"] as? Bool, !add.contains(where: { $0.role == role }) {
                    add.append((role, flag))
                }
                guard let content = Self.content(config["\(role)_token"]) else { continue }
                let id = added.first { $0["content"] as? String == content }?["id"] as? Int
                set(role, id, vocabularySize)
            }
        }
        for role in Self.roles { set(role, files.modelConfig?["\(role)_token_id"] as? Int, vocabularySize) }
    }

    /// A `*_token` entry: a string or an AddedToken object's `content`.
    static func content(_ entry: Any?) -> String? {
        if let s = entry as? String { return s }
        return (entry as? [String: Any])?["content"] as? String
    }

    /// `cls` stands in for a missing `bos`, `sep` for a missing `eos`.
    static func fillInFallbacks(_ config: inout [String: Any]?) {
        guard var c = config else { return }
        if content(c["bos_token"]) == nil, let cls = c["cls_token"] { c["bos_token"] = cls }
        if content(c["eos_token"]) == nil, let sep = c["sep_token"] { c["eos_token"] = sep }
        config = c
    }

    private mutating func set(_ role: String, _ id: Int?, _ vocabularySize: Int) {
        guard let id, id >= 0, id < vocabularySize, !ids.contains(where: { $0.role == role }) else { return }
        ids.append((role, id))
    }

    private mutating func setAdd(_ role: String, _ value: Bool, onlyIfUnset: Bool = false) {
        if let i = add.firstIndex(where: { $0.role == role }) {
            if !onlyIfUnset { add[i].value = value }
        } else {
            add.append((role, value))
        }
    }

    private mutating func parseNormalizer(_ n: [String: Any]) {
        switch n["type"] as? String {
        case "Lowercase": lowercase = true
        case "StripAccents": stripAccents = true
        case "BertNormalizer":
            if n.keys.contains("lowercase") { lowercase = n["lowercase"] as? Bool }
            if n.keys.contains("strip_accents") { stripAccents = n["strip_accents"] as? Bool }
        case "Sequence":
            for inner in n["normalizers"] as? [[String: Any]] ?? [] { parseNormalizer(inner) }
        default: break
        }
    }

    /// `ByteLevel` adds nothing; `RobertaProcessing` adds bos, eos and sep; a `TemplateProcessing`
    /// adds what its single-sequence template starts and ends with, and sep when the pair
    /// template puts one between the sequences that the single one does not end with.
    private mutating func readPostProcessor(_ pp: [String: Any], config: inout [String: Any]?) {
        for processor in pp["processors"] as? [[String: Any]] ?? [pp] {
            switch processor["type"] as? String {
            case "ByteLevel":
                setAdd("bos", false, onlyIfUnset: true)
                setAdd("eos", false, onlyIfUnset: true)
            case "RobertaProcessing":
                for role in ["bos", "eos", "sep"] { setAdd(role, true) }
            case "TemplateProcessing":
                readTemplate(processor, config: &config)
            default: break
            }
        }
    }

    static func special(_ item: [String: Any]?) -> String? {
        ((item?["SpecialToken"] as? [String: Any])?["id"] as? String).flatMap { $0.isEmpty ? nil : $0 }
    }

    private mutating func readTemplate(_ processor: [String: Any], config: inout [String: Any]?) {
        let single = processor["single"] as? [[String: Any]] ?? []
        var pair = processor["pair"] as? [[String: Any]] ?? []
        let tc = config ?? [:]
        var bos = Self.content(tc["bos_token"]), eos = Self.content(tc["eos_token"])
        let cls = Self.content(tc["cls_token"]), sep = Self.content(tc["sep_token"])
        var first: String?, last: String?
        if single.count > 1 {
            first = Self.special(single.first)
            // Without a tokenizer_config.json the template's own tokens are bos and eos.
            if config == nil { bos = first }
            if config == nil { eos = Self.special(single.last) }
            if let first { setAdd("bos", first == bos || first == cls) }
            last = Self.special(single.last)
            if let last { setAdd("eos", last == eos) }
        }
        guard !pair.isEmpty else { return }
        let start = first != nil && Self.special(pair.first) == first ? 1 : 0
        let stop = last != nil && Self.special(pair.last) == last ? pair.count - 1 : pair.count
        pair = start < stop ? Array(pair[start..<stop]) : []
        guard pair.count > 2,
            (pair.first?["Sequence"] as? [String: Any])?["id"] as? String == "A",
            (pair.last?["Sequence"] as? [String: Any])?["id"] as? String == "B"
        else { return }
        let middle = Array(pair[1..<(pair.count - 1)])
        var addSep = false
        if let entry = Self.special(middle.first), [sep, eos].contains(entry), last == nil { addSep = true }
        if middle.count == 2, let entry = Self.special(middle[1]), [sep, eos].contains(entry) { addSep = true }
        setAdd("sep", addSep)
    }
}
