import CkptCore
import Foundation

/// `ckpt tokenize`: the tokenizer a model was trained with, found from what the user points at —
/// a `vocab.txt` or a SentencePiece `.model`, or a checkpoint file or folder with one beside it —
/// WordPiece with lower-casing from `tokenizer_config.json` (`do_lower_case`) when there is one,
/// else from the vocabulary; SentencePiece with the normalizer and segmentation its model holds.
public struct TextEncoder: Sendable {
    public enum Backend: Sendable {
        case wordPiece(WordPieceTokenizer)
        case sentencePiece(SentencePieceTokenizer)
        case byteLevelBPE(ByteLevelBPETokenizer)
    }

    public let backend: Backend

    /// One encoded text, as the model is fed.
    public struct Encoded: Sendable {
        public let tokens: [String]
        public let ids: [Int]
        public let segments: [Int]
    }

    /// The WordPiece tokenizer, when the model uses one.
    public var wordPiece: WordPieceTokenizer? {
        if case .wordPiece(let w) = backend { return w }
        return nil
    }

    /// The vocabulary or model file the encoder reads.
    public var path: String {
        switch backend {
        case .wordPiece(let w): return w.vocabulary.path
        case .sentencePiece(let s): return s.model.path
        case .byteLevelBPE(let b): return b.vocabularyPath
        }
    }

    /// - Parameter lowercase: `--lowercase` / `--cased`; nil to decide from the files.
    public init(path: String, lowercase: Bool?) throws {
        let file = try Self.tokenizerFile(for: path)
        if file.hasSuffix(".json") {
            let merges = FileSystem.join(FileSystem.dirname(file), "merges.txt")
            backend = .byteLevelBPE(try ByteLevelBPETokenizer(vocabulary: file, merges: merges))
            return
        }
        if SentencePieceModel.looksLike(file) {
            backend = .sentencePiece(try SentencePieceTokenizer(path: file))
            return
        }
        let folder = FileSystem.dirname(file)
        let vocabulary = try Vocabulary(path: file)
        // A Hub folder (transformers' tokenizer_config.json beside the vocabulary) is tokenized as
        // transformers' BertTokenizer does; a Google / bert4keras folder as bert4keras does.
        let rules: WordPieceRules
        if let config = try Self.tokenizerConfig(FileSystem.join(folder, "tokenizer_config.json")) {
            let lower = lowercase ?? (config["do_lower_case"] as? Bool ?? true)
            rules = .transformers(
                lowercase: lower, stripAccents: config["strip_accents"] as? Bool,
                splitCJK: config["tokenize_chinese_chars"] as? Bool ?? true)
        } else {
            rules = .bert4keras(lowercase: lowercase ?? WordPieceTokenizer.isUncased(vocabulary))
        }
        backend = .wordPiece(WordPieceTokenizer(vocabulary: vocabulary, rules: rules))
    }

    /// WordPiece: `[CLS] a [SEP] (b [SEP])`. SentencePiece: the pieces of each text followed by
    /// `</s>` (T5's and bert4keras `SpTokenizer`'s convention); segment ids 0, then 1 for the pair.
    public func encode(_ text: String, pair: String? = nil, withTokens: Bool = true) throws -> Encoded {
        switch backend {
        case .wordPiece(let w):
            let e = try w.encode(text, pair: pair, withTokens: withTokens)
            return Encoded(tokens: e.tokens, ids: e.ids, segments: e.segments)
        case .byteLevelBPE(let b):
            // GPT-2 adds no special tokens; a pair is the two texts' pieces, segments 0 then 1.
            let first = b.encode(text), second = pair.map { b.encode($0) } ?? []
            let ids = first + second
            return Encoded(
                tokens: b.tokens(ids), ids: ids,
                segments: [Int](repeating: 0, count: first.count) + [Int](repeating: 1, count: second.count))
        case .sentencePiece(let s):
            let eos = s.eosID.map { [$0] } ?? []
            let first = s.encode(text) + eos
            let second = pair.map { s.encode($0) + eos } ?? []
            let ids = first + second
            return Encoded(
                tokens: s.pieces(ids), ids: ids,
                segments: [Int](repeating: 0, count: first.count) + [Int](repeating: 1, count: second.count))
        }
    }

    /// Names of SentencePiece model files looked for beside a checkpoint.
    static let modelNames = ["spiece.model", "sentencepiece.model", "sentencepiece.bpe.model", "tokenizer.model"]

    /// The vocabulary or model for `path`: itself, or the one beside (or in) a checkpoint
    /// (`vocab.txt` first, then a SentencePiece model).
    static func tokenizerFile(for path: String) throws -> String {
        if FileSystem.isRegularFile(path)
            && (path.hasSuffix(".txt") || path.hasSuffix(".model") || path.hasSuffix("vocab.json"))
        {
            return path
        }
        let folder = FileSystem.isDirectory(path) ? path : FileSystem.dirname(path)
        for name in ["vocab.txt"] + modelNames where FileSystem.isRegularFile(FileSystem.join(folder, name)) {
            return FileSystem.join(folder, name)
        }
        // GPT-2's byte-level BPE: vocab.json with merges.txt beside it.
        if FileSystem.isRegularFile(FileSystem.join(folder, "vocab.json"))
            && FileSystem.isRegularFile(FileSystem.join(folder, "merges.txt"))
        {
            return FileSystem.join(folder, "vocab.json")
        }
        if FileSystem.isRegularFile(path) { return path }
        throw CkptError(.fileNotFound, file: path, "no vocab.txt or SentencePiece model here or beside it")
    }

    /// A transformers `tokenizer_config.json`, when present.
    static func tokenizerConfig(_ path: String) throws -> [String: Any]? {
        guard FileSystem.isRegularFile(path) else { return nil }
        let data = Data(try MappedFile.contents(of: path))
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CkptError(.malformed, file: path, "not a JSON object")
        }
        return object
    }
}
