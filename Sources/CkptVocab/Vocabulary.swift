import CkptCore

/// A BERT `vocab.txt`: one token a line, id = line number. As bert4keras `load_vocab` reads it:
/// the first whitespace-separated field of a line, or the stripped line when it has none.
public struct Vocabulary: Sendable {
    public let tokens: [String]
    public let ids: [String: Int]
    public let path: String

    public init(path: String) throws {
        let text = try FileSystem.readText(path)
        var tokens: [String] = []
        var ids: [String: Int] = [:]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        for line in lines {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            let token = fields.first.map(String.init) ?? String(line.filter { !$0.isWhitespace })
            // bert4keras: token_dict[token] = len(token_dict) — a repeated token keeps its last id.
            ids[token] = tokens.count
            tokens.append(token)
        }
        guard !tokens.isEmpty else { throw CkptError(.malformed, file: path, "vocabulary is empty") }
        self.tokens = tokens
        self.ids = ids
        self.path = path
    }

    public var count: Int { tokens.count }
}
