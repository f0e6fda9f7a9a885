import CkptCore

/// A BERT `vocab.txt`: one token a line, id = line number. As bert4keras `load_vocab` reads it:
/// the first whitespace-separated field of a line, or the stripped line when it has none.
public struct Vocabulary: Sendable {
    public let tokens: [String]
    /// Keyed by UTF-8 bytes: Swift's String equality is canonical equivalence (é == e + U+0301,
    /// U+F900 == U+8C48), while bert4keras compares code points.
    private let byBytes: [[UInt8]: Int]
    public let path: String

    public func id(of token: String) -> Int? { byBytes[Array(token.utf8)] }

    public init(path: String) throws {
        let text = try FileSystem.readText(path)
        var tokens: [String] = []
        var ids: [[UInt8]: Int] = [:]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        for line in lines {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            let token = fields.first.map(String.init) ?? String(line.filter { !$0.isWhitespace })
            // bert4keras: token_dict[token] = len(token_dict) — a repeated token keeps its last id.
            ids[Array(token.utf8)] = tokens.count
            tokens.append(token)
        }
        guard !tokens.isEmpty else { throw CkptError(.malformed, file: path, "vocabulary is empty") }
        self.tokens = tokens
        byBytes = ids
        self.path = path
    }

    public var count: Int { tokens.count }

    /// A vocabulary from a token list (SentencePiece pieces).
    public init(tokens: [String], path: String) {
        var ids: [[UInt8]: Int] = [:]
        for (i, t) in tokens.enumerated() { ids[Array(t.utf8)] = i }
        self.tokens = tokens
        byBytes = ids
        self.path = path
    }
}
