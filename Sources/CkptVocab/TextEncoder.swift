import CkptCore
import Foundation

/// `ckpt tokenize`: the tokenizer a model was trained with, found from what the user points at —
/// a `vocab.txt`, or a checkpoint file or folder with its `vocab.txt` beside it — with lower-casing
/// from `tokenizer_config.json` (`do_lower_case`) when there is one, else from the vocabulary.
public struct TextEncoder: Sendable {
    public let tokenizer: WordPieceTokenizer

    /// One encoded text, as the model is fed.
    public struct Encoded: Sendable {
        public let tokens: [String]
        public let ids: [Int]
        public let segments: [Int]
    }

    /// - Parameter lowercase: `--lowercase` / `--cased`; nil to decide from the files.
    public init(path: String, lowercase: Bool?) throws {
        let vocabPath = try Self.vocabularyFile(for: path)
        let folder = FileSystem.dirname(vocabPath)
        tokenizer = WordPieceTokenizer(
            vocabulary: try Vocabulary(path: vocabPath),
            lowercase: try lowercase ?? Self.configuredLowercase(FileSystem.join(folder, "tokenizer_config.json")))
    }

    public func encode(_ text: String, pair: String? = nil) throws -> Encoded {
        let e = try tokenizer.encode(text, pair: pair)
        return Encoded(tokens: e.tokens, ids: e.ids, segments: e.segments)
    }

    /// The vocab.txt for `path`: itself, or the one beside (or in) a checkpoint.
    static func vocabularyFile(for path: String) throws -> String {
        if SentencePieceModel.looksLike(path) && !FileSystem.isDirectory(path) {
            throw CkptError(
                .unsupported, file: path, "SentencePiece encoding is not in ckpt yet (WordPiece vocab.txt only)")
        }
        if FileSystem.isRegularFile(path)
            && (path.hasSuffix(".txt") || !FileSystem.exists(FileSystem.join(FileSystem.dirname(path), "vocab.txt")))
        {
            return path
        }
        let folder = FileSystem.isDirectory(path) ? path : FileSystem.dirname(path)
        let candidate = FileSystem.join(folder, "vocab.txt")
        guard FileSystem.isRegularFile(candidate) else {
            throw CkptError(.fileNotFound, file: path, "no vocab.txt here or beside it")
        }
        return candidate
    }

    /// `do_lower_case` of a transformers `tokenizer_config.json`, when present.
    static func configuredLowercase(_ path: String) throws -> Bool? {
        guard FileSystem.isRegularFile(path) else { return nil }
        let data = Data(try MappedFile.contents(of: path))
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CkptError(.malformed, file: path, "not a JSON object")
        }
        return object["do_lower_case"] as? Bool
    }
}
