import CkptCore
import Foundation

/// GPT-2's byte-level BPE (transformers' `GPT2Tokenizer`, from `vocab.json` and `merges.txt`):
/// the text split by GPT-2's pattern (`GPT2PreTokenizer`), each piece's UTF-8 bytes written as
/// the printable characters of `bytes_to_unicode`, then merged pair by pair, lowest merge rank
/// first, and looked up in the vocabulary. No special tokens are added.
public struct ByteLevelBPETokenizer: Sendable {
    public let vocabularyPath: String
    private let ids: [String: Int]
    private let tokens: [Int: String]
    /// "a b" (the two symbols joined by a space) → rank.
    private let ranks: [String: Int]
    private let byteSymbols: [String]

    public init(vocabulary: String, merges: String) throws {
        vocabularyPath = vocabulary
        let data = Data(try MappedFile.contents(of: vocabulary))
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CkptError(.malformed, file: vocabulary, "not a JSON object of token to id")
        }
        var ids: [String: Int] = [:]
        for (token, id) in object {
            guard let id = id as? Int else {
                throw CkptError(.malformed, file: vocabulary, tensor: token, "id is no integer")
            }
            ids[token] = id
        }
        self.ids = ids
        tokens = Dictionary(ids.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var ranks: [String: Int] = [:]
        let lines = try FileSystem.readText(merges).split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines.dropFirst(lines.first?.hasPrefix("#version") == true ? 1 : 0) where !line.isEmpty {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw CkptError(.malformed, file: merges, "merge line '\(line)' is not 'a b'")
            }
            if ranks[String(line)] == nil { ranks[String(line)] = ranks.count }
        }
        self.ranks = ranks
        byteSymbols = Self.bytesToUnicode()
    }

    /// transformers' `bytes_to_unicode`: printable bytes stand for themselves, the others for
    /// U+0100 onwards, in byte order.
    static func bytesToUnicode() -> [String] {
        var symbol = [Unicode.Scalar?](repeating: nil, count: 256)
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        for b in printable { symbol[b] = Unicode.Scalar(UInt32(b)) }
        var n: UInt32 = 0
        for b in 0..<256 where symbol[b] == nil {
            symbol[b] = Unicode.Scalar(256 + n)
            n += 1
        }
        return symbol.map { String(String.UnicodeScalarView([$0!])) }
    }

    /// The ids of `text` (unknown symbols, which a byte-level vocabulary never has, are skipped).
    public func encode(_ text: String) -> [Int] {
        var out: [Int] = []
        for piece in GPT2PreTokenizer.split(text) {
            let symbols = piece.utf8.map { byteSymbols[Int($0)] }
            for token in merge(symbols) { if let id = ids[token] { out.append(id) } }
        }
        return out
    }

    public func tokens(_ ids: [Int]) -> [String] { ids.map { tokens[$0] ?? "" } }

    /// GPT2Tokenizer.bpe: merge the lowest-ranked adjacent pair everywhere it occurs, until none is ranked.
    func merge(_ start: [String]) -> [String] {
        var word = start
        while word.count > 1 {
            var best: (rank: Int, index: Int)?
            for i in 0..<(word.count - 1) {
                if let r = ranks[word[i] + " " + word[i + 1]], r < (best?.rank ?? Int.max) { best = (r, i) }
            }
            guard let best else { break }
            let (a, b) = (word[best.index], word[best.index + 1])
            var merged: [String] = []
            var i = 0
            while i < word.count {
                if i < word.count - 1 && word[i] == a && word[i + 1] == b {
                    merged.append(a + b)
                    i += 2
                } else {
                    merged.append(word[i])
                    i += 1
                }
            }
            word = merged
        }
        return word
    }
}

/// GPT-2's pre-tokenization pattern, `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
/// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, as an ordered alternation over Unicode scalars (`\s` is
/// White_Space), written out instead of a regex engine that matches grapheme clusters.
enum GPT2PreTokenizer {
    static func split(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        var out: [String] = []
        var i = 0
        while i < s.count {
            let end = match(s, at: i)
            out.append(String(String.UnicodeScalarView(s[i..<end])))
            i = end
        }
        return out
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

    /// The end of the match starting at `i` (always past `i`).
    static func match(_ s: [Unicode.Scalar], at i: Int) -> Int {
        if s[i] == "'" {
            for suffix in ["s", "t", "re", "ve", "m", "ll", "d"] {
                let u = Array(suffix.unicodeScalars)
                if i + 1 + u.count <= s.count && Array(s[(i + 1)..<(i + 1 + u.count)]) == u { return i + 1 + u.count }
            }
        }
        for test in [isLetter, isNumber, { !isSpace($0) && !isLetter($0) && !isNumber($0) }] {
            let start = s[i] == " " && i + 1 < s.count && test(s[i + 1]) ? i + 1 : i
            var j = start
            while j < s.count && test(s[j]) { j += 1 }
            if j > start { return j }
        }
        var j = i
        while j < s.count && isSpace(s[j]) { j += 1 }
        if j > i {
            // \s+(?!\S): a run followed by a non-space gives its last space to the next piece.
            if j == s.count || j - 1 == i { return j }
            return j - 1
        }
        return i + 1  // unreachable: every scalar is a letter, a number, a space or another
    }
}
