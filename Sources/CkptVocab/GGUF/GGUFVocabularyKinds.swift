import CkptCore
import CkptFormats
import Foundation

extension GGUFVocabulary {
    /// `[PADn]` for the ids a vocabulary file does not fill, as the converter pads.
    static func padded(_ tokens: [String?], rows: Int) -> [String] {
        (0..<max(rows, tokens.count)).map { i in i < tokens.count ? tokens[i] ?? "[PAD\(i)]" : "[PAD\(i)]" }
    }

    /// The added tokens a tokenizer holds beyond its vocabulary file: from `tokenizer.json`,
    /// or the special tokens of the class's defaults. Content → special.
    static func addedTokens(_ files: GGUFSpecialTokens.Files) -> [String: Bool] {
        var out: [String: Bool] = [:]
        for t in files.tokenizerJSON?["added_tokens"] as? [[String: Any]] ?? [] {
            if let c = t["content"] as? String { out[c] = t["special"] as? Bool ?? false }
        }
        return out
    }

    /// Added tokens that do not say they are special but look it (`<|...|>`, `<pad>`...).
    static func looksSpecial(_ t: String) -> Bool {
        // By bytes, as Python compares code points (Swift's hasPrefix compares Characters).
        let b = Array(t.utf8)
        func wraps(_ head: String, _ tail: String) -> Bool {
            b.starts(with: Array(head.utf8)) && b.reversed().starts(with: Array(tail.utf8).reversed())
        }
        return ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(t) || wraps("<|", "|>") || wraps("<｜", "｜>")
            || wraps("<unused", ">")
    }

    /// Types of a vocabulary's tokens: ids with no token unused, added special tokens control,
    /// other added tokens user-defined (or control when they look special), the rest normal.
    static func tokenTypes(_ tokens: [String?], rows: Int, added: [String: Bool]) -> [TokenType] {
        (0..<max(rows, tokens.count)).map { i in
            guard i < tokens.count, let t = tokens[i] else { return .unused }
            guard let special = added[t] else { return .normal }
            return special || looksSpecial(t) ? .control : .userDefined
        }
    }

    // MARK: WordPiece

    static func wordPiece(_ folder: String, rows: Int?, typeVocabSize: Int?, config: [String: Any]?) throws
        -> [(key: String, value: GGUFValue)]
    {
        let vocab = try Vocabulary(path: try need(folder, ["vocab.txt"], what: "WordPiece"))
        // transformers' BertTokenizer, as its tokenizer_config.json says or as ckpt would write it.
        let tc = json(FileSystem.join(folder, "tokenizer_config.json"))
        let lowercase = tc.map { $0["do_lower_case"] as? Bool ?? true } ?? WordPieceTokenizer.isUncased(vocab)
        let rules = WordPieceRules.transformers(
            lowercase: lowercase, stripAccents: tc?["strip_accents"] as? Bool,
            splitCJK: tc?["tokenize_chinese_chars"] as? Bool ?? true)
        let pre = GGUFPreTokenizer.wordPiece(WordPieceTokenizer(vocabulary: vocab, rules: rules))
        let specials = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"].filter { vocab.id(of: $0) != nil }
        let files = files(folder, config: config) {
            GGUFSpecialTokens.Files(
                tokenizerJSON: [
                    "added_tokens": specials.map { ["content": $0, "id": vocab.id(of: $0)!, "special": true] },
                    "normalizer": ["type": "BertNormalizer", "lowercase": lowercase, "strip_accents": NSNull()],
                    "post_processor": template(first: "[CLS]", last: "[SEP]", between: "[SEP]"),
                ],
                tokenizerConfig: [
                    "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                    "mask_token": "[MASK]",
                ])
        }
        let n = max(rows ?? vocab.count, vocab.count)
        var added = addedTokens(files)
        if files.tokenizerJSON == nil { for s in specials { added[s] = true } }
        let tokens: [String?] = vocab.tokens.enumerated().map { i, t in vocab.id(of: t) == i ? t : nil }
        let types = tokenTypes(tokens, rows: n, added: added)
        // llama.cpp's WordPiece form: a word-initial piece gets "▁", a continuation loses "##".
        let phantom = zip(padded(tokens, rows: n), types).map { t, type -> String in
            if type == .control { return t }
            // By bytes: "##ा" does not have the prefix "##" as Swift compares Characters.
            let bytes = Array(t.utf8)
            return bytes.starts(with: [0x23, 0x23])
                ? String(decoding: bytes.dropFirst(2), as: UTF8.self) : "\u{2581}" + t
        }
        var out: [(key: String, value: GGUFValue)] = [
            ("tokenizer.ggml.token_type_count", .uint32(UInt32(typeVocabSize ?? 1))),
            ("tokenizer.ggml.model", .text("bert")),
            ("tokenizer.ggml.pre", .text(pre)),
            ("tokenizer.ggml.tokens", strings(phantom)),
            ("tokenizer.ggml.token_type", GGUFVocabulary.types(types)),
        ]
        out += specialKeys(GGUFSpecialTokens(files, vocabularySize: n))
        return out
    }

    /// A `TemplateProcessing` post-processor: `first $A last`, pairs `first $A between $B last`.
    static func template(first: String?, last: String, between: String) -> [String: Any] {
        func sp(_ id: String) -> [String: Any] { ["SpecialToken": ["id": id, "type_id": 0]] }
        func seq(_ id: String) -> [String: Any] { ["Sequence": ["id": id, "type_id": 0]] }
        let head = first.map { [sp($0)] } ?? []
        return [
            "type": "TemplateProcessing",
            "single": head + [seq("A"), sp(last)],
            "pair": head + [seq("A"), sp(between), seq("B"), sp(last)],
        ]
    }
}

extension GGUFVocabulary {
    // MARK: SentencePiece

    static func sentencePiece(_ folder: String, rows: Int?, config: [String: Any]?) throws
        -> [(key: String, value: GGUFValue)]
    {
        let path = try need(folder, ["tokenizer.model", "spiece.model"], what: "SentencePiece")
        let model = try SentencePieceModel(path: path)
        let spec = model.spec
        guard spec.modelType == 1 else {
            throw CkptError(.unsupported, file: path, "llama.cpp's T5 tokenizer is a unigram model; this one is not")
        }
        let n = max(rows ?? model.pieces.count, model.pieces.count)
        var tokens = (0..<n).map { "[PAD\($0)]" }
        var scores = [Float](repeating: -10000, count: n)
        var types = [TokenType](repeating: .unused, count: n)
        for (i, p) in model.pieces.enumerated() {
            tokens[i] = p.piece
            scores[i] = p.score
            // sentencepiece's IsUnknown / IsControl / IsUnused / IsByte; user-defined counts as normal.
            types[i] = [2: .unknown, 3: .control, 5: .unused, 6: .byte][p.type] ?? .normal
        }
        func piece(_ id: Int) -> String? { id >= 0 && id < model.pieces.count ? model.pieces[id].piece : nil }
        let roles = [("eos", spec.eosID), ("unk", spec.unkID), ("pad", spec.padID)].compactMap { role, id in
            piece(id).map { (role, $0, id) }
        }
        let files = files(folder, config: config) {
            GGUFSpecialTokens.Files(
                tokenizerJSON: [
                    "added_tokens": roles.map { ["content": $0.1, "id": $0.2, "special": true] },
                    "post_processor": template(
                        first: nil, last: piece(spec.eosID) ?? "</s>", between: piece(spec.eosID) ?? "</s>"),
                ],
                tokenizerConfig: Dictionary(
                    roles.map { ("\($0.0)_token", $0.1 as Any) }, uniquingKeysWith: { a, _ in a }))
        }
        var out: [(key: String, value: GGUFValue)] = [
            ("tokenizer.ggml.model", .text("t5")),
            ("tokenizer.ggml.pre", .text("default")),
            ("tokenizer.ggml.tokens", strings(tokens)),
            ("tokenizer.ggml.scores", .array(.float32, scores.map { .float32($0) })),
            ("tokenizer.ggml.token_type", GGUFVocabulary.types(types)),
            ("tokenizer.ggml.add_space_prefix", .bool(spec.addDummyPrefix)),
            ("tokenizer.ggml.remove_extra_whitespaces", .bool(spec.removeExtraWhitespaces)),
        ]
        if !spec.charsmap.isEmpty {
            out.append(("tokenizer.ggml.precompiled_charsmap", .array(.uint8, spec.charsmap.map { .uint8($0) })))
        }
        out += specialKeys(GGUFSpecialTokens(files, vocabularySize: n))
        return out
    }

    // MARK: GPT-2 byte-level BPE

    static func bytePairs(_ folder: String, rows: Int?, config: [String: Any]?) throws
        -> [(key: String, value: GGUFValue)]
    {
        let vocabPath = try need(folder, ["vocab.json", "encoder.json"], what: "GPT-2's BPE")
        let mergesPath = try need(folder, ["merges.txt", "vocab.bpe"], what: "GPT-2's BPE")
        guard let ids = json(vocabPath) as? [String: Int] else {
            throw CkptError(.malformed, file: vocabPath, "not a JSON object of token to id")
        }
        let end = "<|endoftext|>"
        let files = files(folder, config: config) {
            GGUFSpecialTokens.Files(
                tokenizerJSON: [
                    "added_tokens": ids[end].map { [["content": end, "id": $0, "special": true]] } ?? [],
                    "post_processor": ["type": "ByteLevel"],
                ],
                tokenizerConfig: ids[end] == nil ? [:] : ["bos_token": end, "eos_token": end, "unk_token": end])
        }
        let count = (ids.values.max() ?? -1) + 1
        var tokens = [String?](repeating: nil, count: count)
        for (t, i) in ids where i >= 0 { tokens[i] = t }
        let n = max(rows ?? count, count)
        var added = addedTokens(files)
        if files.tokenizerJSON == nil, ids[end] != nil { added[end] = true }
        var out: [(key: String, value: GGUFValue)] = [
            ("tokenizer.ggml.model", .text("gpt2")),
            // ckpt's byte-level BPE is GPT-2's, pre-tokenizer included.
            ("tokenizer.ggml.pre", .text("gpt-2")),
            ("tokenizer.ggml.tokens", strings(padded(tokens, rows: n))),
            ("tokenizer.ggml.token_type", GGUFVocabulary.types(tokenTypes(tokens, rows: n, added: added))),
            ("tokenizer.ggml.merges", strings(try merges(files, path: mergesPath))),
        ]
        out += specialKeys(GGUFSpecialTokens(files, vocabularySize: n))
        return out
    }

    /// `tokenizer.json`'s merges (strings, or pairs whose spaces become U+0120 as gguf-py
    /// writes them), else `merges.txt` without its `#version` line.
    static func merges(_ files: GGUFSpecialTokens.Files, path: String) throws -> [String] {
        if let model = files.tokenizerJSON?["model"] as? [String: Any], let list = model["merges"] as? [Any],
            !list.isEmpty
        {
            return list.compactMap { m in
                if let s = m as? String { return s }
                guard let pair = m as? [String], pair.count == 2 else { return nil }
                return pair.map { $0.replacingOccurrences(of: " ", with: "\u{0120}") }.joined(separator: " ")
            }
        }
        var lines = try FileSystem.readText(path).split(separator: "\n", omittingEmptySubsequences: false)
        if lines.first?.utf8.first == UInt8(ascii: "#") { lines.removeFirst() }
        return lines.compactMap { line in
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            return parts.count == 2 ? "\(parts[0]) \(parts[1])" : nil
        }
    }
}
