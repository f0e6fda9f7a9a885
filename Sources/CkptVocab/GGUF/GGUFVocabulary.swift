import CkptCore
import CkptFormats
import CkptMappings
import Foundation

/// The tokenizer half of a GGUF file's metadata, as llama.cpp's converter writes it from the
/// vocabulary files beside the source: WordPiece (`vocab.txt`, llama.cpp's `▁`-word form),
/// SentencePiece (`spiece.model`: pieces, scores, types, normalizer) or GPT-2's byte-level BPE
/// (`vocab.json` + `merges.txt`, or the original release's `encoder.json` + `vocab.bpe`), with
/// the special ids and add-flags `GGUFSpecialTokens` decides.
public enum GGUFVocabulary {
    /// llama.cpp's token types (`llama_token_type`).
    enum TokenType: Int32 { case normal = 1, unknown, control, userDefined, unused, byte }

    /// - Parameters:
    ///   - kind: the family's `gguf.tokenizer` (`wordpiece`, `sentencepiece`, `bpe`).
    ///   - vocabularyRows: the token embedding's rows: ids past the vocabulary get `[PADn]` tokens.
    ///   - config: the source's config values (`*_token_id`, `type_vocab_size`).
    public static func metadata(
        kind: String, besides sourcePath: String, opened: String, vocabularyRows: Int?, typeVocabSize: Int?,
        config: [String: Any]?
    ) throws -> [(key: String, value: GGUFValue)] {
        let folder = FileSystem.isDirectory(sourcePath) ? sourcePath : FileSystem.dirname(opened)
        switch kind {
        case "wordpiece":
            return try wordPiece(folder, rows: vocabularyRows, typeVocabSize: typeVocabSize, config: config)
        case "sentencepiece": return try sentencePiece(folder, rows: vocabularyRows, config: config)
        case "bpe": return try bytePairs(folder, rows: vocabularyRows, config: config)
        default: throw CkptError(.malformed, file: folder, "unknown GGUF tokenizer kind '\(kind)'")
        }
    }

    static func need(_ folder: String, _ names: [String], what: String) throws -> String {
        for n in names where FileSystem.isRegularFile(FileSystem.join(folder, n)) { return FileSystem.join(folder, n) }
        throw CkptError(
            .fileNotFound, file: folder,
            "a GGUF file holds its tokenizer: \(what) needs \(names.joined(separator: " or ")) beside the checkpoint")
    }

    static func json(_ path: String) -> [String: Any]? {
        guard FileSystem.isRegularFile(path), let bytes = try? MappedFile.contents(of: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// The tokenizer files beside the source, or those transformers would write (`defaults`)
    /// when it has neither `tokenizer.json` nor `tokenizer_config.json`.
    static func files(_ folder: String, config: [String: Any]?, defaults: () -> GGUFSpecialTokens.Files)
        -> GGUFSpecialTokens.Files
    {
        let tj = json(FileSystem.join(folder, "tokenizer.json"))
        let tc = json(FileSystem.join(folder, "tokenizer_config.json"))
        guard tj != nil || tc != nil else {
            var d = defaults()
            d.modelConfig = config
            return d
        }
        return GGUFSpecialTokens.Files(tokenizerJSON: tj, tokenizerConfig: tc, modelConfig: config)
    }

    /// The special-token keys (ids, add flags, normalizer flags) in SpecialVocab's order.
    static func specialKeys(_ s: GGUFSpecialTokens) -> [(key: String, value: GGUFValue)] {
        // The roles gguf-py's writer has a key for (no cls id, no add flag but bos/eos/sep).
        let names = [
            "bos": "bos", "eos": "eos", "unk": "unknown", "sep": "seperator", "pad": "padding", "mask": "mask",
        ]
        var out: [(key: String, value: GGUFValue)] = s.ids.compactMap { entry in
            names[entry.role].map { ("tokenizer.ggml.\($0)_token_id", .uint32(UInt32(entry.id))) }
        }
        out += s.add.filter { ["bos", "eos", "sep"].contains($0.role) }.map {
            ("tokenizer.ggml.add_\($0.role)_token", .bool($0.value))
        }
        if let l = s.lowercase { out.append(("tokenizer.ggml.normalizer.lowercase", .bool(l))) }
        if let a = s.stripAccents { out.append(("tokenizer.ggml.normalizer.strip_accents", .bool(a))) }
        return out
    }

    static func strings(_ tokens: [String]) -> GGUFValue { .array(.string, tokens.map { .string(Array($0.utf8)) }) }
    static func types(_ types: [TokenType]) -> GGUFValue { .array(.int32, types.map { .int32($0.rawValue) }) }
}

extension GGUFVocabulary {
    /// The tokenizer keys for a conversion to GGUF: the family's tokenizer kind, the vocabulary
    /// files beside the source, the embedding's rows, the config's token ids and token types.
    public static func metadata(for setup: ConversionSetup, sourcePath: String) throws -> [(
        key: String, value: GGUFValue
    )] {
        guard let kind = setup.table.gguf?.tokenizer else { return [] }
        let segments = setup.plan.outputs.first { $0.nativeName == "embeddings.segment.weight" }?.inputs.first?
            .nativeShape.first
        return try metadata(
            kind: kind, besides: sourcePath, opened: setup.source.path, vocabularyRows: setup.plan.vocabularyRows,
            typeVocabSize: setup.config?.int("type_vocab_size") ?? segments,
            config: setup.config?.values.mapValues(\.foundationValue))
    }
}
