import CkptCore
import Foundation

/// bert4keras' `Tokenizer` (tokenizers.py): lower-case and strip accents (NFD, drop Mn) when the
/// vocabulary is uncased, split on spaces, punctuation and CJK characters, drop control
/// characters, then greedy longest-match WordPiece with `##` continuations; `[CLS] … [SEP]`.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: Vocabulary
    public let lowercase: Bool
    /// Words longer than this stay whole (bert4keras `word_maxlen`).
    public let wordMaxLength = 200

    public init(vocabulary: Vocabulary, lowercase: Bool? = nil) {
        self.vocabulary = vocabulary
        // An uncased vocabulary has no upper-case ASCII letters in its tokens (besides [SPECIAL]
        // ones). Only ASCII counts: bert-base-uncased holds ℝ (U+211D, an upper-case letter).
        self.lowercase =
            lowercase ?? !vocabulary.tokens.contains { t in
                !(t.hasPrefix("[") && t.hasSuffix("]")) && t.unicodeScalars.contains { ("A"..."Z").contains($0) }
            }
    }

    /// The pieces of each word of `text` (a word no piece sequence covers is one piece, itself).
    public func wordPieceLists(_ text: String) -> [[String]] { words(text).map(wordPieces) }

    public func tokenize(_ text: String) -> [String] { words(text).flatMap(wordPieces) }

    /// bert4keras' `_tokenize` before WordPiece: lower-casing, splitting on spaces, punctuation
    /// and CJK characters, control characters dropped.
    func words(_ text: String) -> [String] {
        var source = text
        if lowercase {
            source = Self.pythonLower(source).decomposedStringWithCanonicalMapping
            source.unicodeScalars.removeAll { $0.properties.generalCategory == .nonspacingMark }
        }
        var words: [String] = []
        var current = ""
        func flush() { if !current.isEmpty { words.append(current); current = "" } }
        for ch in source.unicodeScalars {
            if Self.isPunctuation(ch) || Self.isCJK(ch) {
                flush()
                words.append(String(ch))
            } else if Self.isSpace(ch) || Self.isLineBreak(ch) {
                // U+2028/U+2029 are no spaces to bert4keras but Python's str.split() splits on them.
                flush()
            } else if ch.value == 0 || ch.value == 0xfffd || Self.isControl(ch) {
                continue
            } else {
                current.unicodeScalars.append(ch)
            }
        }
        flush()
        return words
    }

    /// `[CLS]` + tokens + `[SEP]` as ids; unknown pieces become `[UNK]`.
    public func encode(_ text: String) throws -> [Int] { try ids(["[CLS]"] + tokenize(text) + ["[SEP]"]) }

    /// bert4keras `encode(first, second)`: `[CLS] first [SEP] second [SEP]`, with the tokens as
    /// written, their ids and segment ids (0 through the first `[SEP]`, 1 after).
    public func encode(_ first: String, pair second: String?) throws -> (tokens: [String], ids: [Int], segments: [Int])
    {
        let a = ["[CLS]"] + tokenize(first) + ["[SEP]"]
        let b = second.map { tokenize($0) + ["[SEP]"] } ?? []
        return (a + b, try ids(a + b), [Int](repeating: 0, count: a.count) + [Int](repeating: 1, count: b.count))
    }

    /// Ids of tokens; unknown ones become `[UNK]`.
    func ids(_ tokens: [String]) throws -> [Int] {
        let unk = vocabulary.id(of: "[UNK]")
        return try tokens.map { t in
            guard let id = vocabulary.id(of: t) ?? unk else {
                throw CkptError(
                    .malformed, file: vocabulary.path, "token '\(t)' is not in the vocabulary, which has no [UNK]")
            }
            return id
        }
    }

    func wordPieces(_ word: String) -> [String] {
        let chars = Array(word.unicodeScalars)
        if chars.count > wordMaxLength { return [word] }
        var pieces: [String] = []
        var start = 0
        while start < chars.count {
            var end = chars.count
            var found: String?
            while end > start {
                var sub = String(String.UnicodeScalarView(chars[start..<end]))
                if start > 0 { sub = "##" + sub }
                if vocabulary.id(of: sub) != nil { found = sub; break }
                end -= 1
            }
            guard let piece = found else { return [word] }
            pieces.append(piece)
            start = end
        }
        return pieces
    }

    /// Python's `str.lower()`: each code point's full lower-case mapping (İ → i + U+0307), with
    /// the one context rule it applies, Final_Sigma: Σ becomes ς after a cased letter (case-
    /// ignorable ones skipped) when no cased letter follows, σ otherwise (unicodeobject.c
    /// `handle_capital_sigma`). Swift's `lowercased()` gives σ everywhere.
    static func pythonLower(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, c) in scalars.enumerated() {
            guard c == "\u{03A3}" else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
                continue
            }
            func cased(_ range: some Sequence<Int>) -> Bool {
                for j in range {
                    let p = scalars[j].properties
                    if p.isCaseIgnorable { continue }
                    return p.isCased
                }
                return false
            }
            let final = cased(stride(from: i - 1, through: 0, by: -1)) && !cased(i + 1..<scalars.count)
            out.append(final ? "\u{03C2}" : "\u{03C3}")
        }
        return String(out)
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\n" || c == "\r" || c == "\t" || c.properties.generalCategory == .spaceSeparator
    }

    static func isLineBreak(_ c: Unicode.Scalar) -> Bool {
        c.properties.generalCategory == .lineSeparator || c.properties.generalCategory == .paragraphSeparator
    }

    public static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    public static func isCJK(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }

    static func isControl(_ c: Unicode.Scalar) -> Bool {
        c.properties.generalCategory == .control || c.properties.generalCategory == .format
    }
}
