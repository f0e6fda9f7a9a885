import CkptCore

/// A BERT `vocab.txt`: one token a line, id = line number. As bert4keras `load_vocab` reads it:
/// the first whitespace-separated field of a line, or the stripped line when it has none.
public struct Vocabulary: Sendable {
    public let tokens: [String]
    /// Keyed by UTF-8 bytes: Swift's String equality is canonical equivalence (é == e + U+0301,
    /// U+F900 == U+8C48), while bert4keras compares code points.
    private let byBytes: [ByteKey: Int]
    public let path: String

    public func id(of token: String) -> Int? { byBytes[ByteKey(Array(token.utf8))] }

    public init(path: String) throws {
        // By bytes, not Characters: faster (a 21,128-line vocab.txt in ~1 ms instead of ~14), and
        // "\r\n" is one Character, which would hide every line break of a CRLF file.
        let text = try MappedFile.contents(of: path)
        var tokens: [String] = []
        var ids: [ByteKey: Int] = [:]
        ids.reserveCapacity(text.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } + 1)
        func isSeparator(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
        var lineStart = 0
        while lineStart < text.count {
            let lineEnd = text[lineStart...].firstIndex(of: 0x0A) ?? text.count
            // bert4keras: the first field of the line (split on whitespace), else "".
            var start = lineStart
            while start < lineEnd && isSeparator(text[start]) { start += 1 }
            var end = start
            while end < lineEnd && !isSeparator(text[end]) { end += 1 }
            let token = String(decoding: text[start..<end], as: UTF8.self)
            // bert4keras: token_dict[token] = len(token_dict) — a repeated token keeps its last id.
            ids[ByteKey(Array(token.utf8))] = tokens.count
            tokens.append(token)
            lineStart = lineEnd + 1
        }
        guard !tokens.isEmpty else { throw CkptError(.malformed, file: path, "vocabulary is empty") }
        self.tokens = tokens
        byBytes = ids
        self.path = path
    }

    public var count: Int { tokens.count }

    /// A vocabulary from a token list (SentencePiece pieces).
    public init(tokens: [String], path: String) {
        var ids: [ByteKey: Int] = [:]
        for (i, t) in tokens.enumerated() { ids[ByteKey(Array(t.utf8))] = i }
        self.tokens = tokens
        byBytes = ids
        self.path = path
    }
}

/// UTF-8 bytes as a dictionary key, hashed in one call rather than byte by byte as `[UInt8]`
/// hashes (reading a 21,128-token vocabulary: a third of its time went to hashing).
struct ByteKey: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
}
