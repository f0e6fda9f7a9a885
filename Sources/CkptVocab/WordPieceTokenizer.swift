import CkptCore
import Foundation

/// bert4keras' `Tokenizer` (tokenizers.py), or transformers' `BertTokenizer` for Hub folders
/// (`WordPieceRules`): lower-case and strip accents (NFD, drop Mn) when the vocabulary is
/// uncased, split on spaces, punctuation and CJK characters, drop control characters, then greedy
/// longest-match WordPiece with `##` continuations; `[CLS] … [SEP]`.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: Vocabulary
    public let rules: WordPieceRules
    public var lowercase: Bool { rules.lowercase }
    /// Longer words stay whole (bert4keras `word_maxlen` 200) or are `[UNK]` (transformers 100).
    public var wordMaxLength: Int { rules.maxWordLength }
    let lookup: WordPieceLookup

    /// bert4keras' rules; lower-casing as given, else detected from the vocabulary.
    public init(vocabulary: Vocabulary, lowercase: Bool? = nil) {
        self.init(vocabulary: vocabulary, rules: .bert4keras(lowercase: lowercase ?? Self.isUncased(vocabulary)))
    }

    public init(vocabulary: Vocabulary, rules: WordPieceRules) {
        self.vocabulary = vocabulary
        self.rules = rules
        lookup = WordPieceLookup(vocabulary)
    }

    /// An uncased vocabulary has no upper-case ASCII letters in its tokens (besides [SPECIAL]
    /// ones). Only ASCII counts: bert-base-uncased holds ℝ (U+211D, an upper-case letter).
    public static func isUncased(_ vocabulary: Vocabulary) -> Bool {
        !vocabulary.tokens.contains { t in
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
        if rules.lowercase {
            source = rules.finalSigma ? Self.pythonLower(source) : Self.lowerEach(source)
        }
        if rules.stripAccents {
            source = source.decomposedStringWithCanonicalMapping
            source.unicodeScalars.removeAll { $0.properties.generalCategory == .nonspacingMark }
        }
        var words: [String] = []
        var current = ""
        func flush() { if !current.isEmpty { words.append(current); current = "" } }
        for ch in source.unicodeScalars {
            if Self.isPunctuation(ch) || (rules.splitCJK && Self.isCJK(ch)) {
                flush()
                words.append(String(ch))
            } else if Self.isSpace(ch) || Self.isLineBreak(ch) {
                // U+2028/U+2029 are no spaces to bert4keras but Python's str.split() splits on them.
                flush()
            } else if ch.value == 0 || ch.value == 0xfffd || Self.isControl(ch)
                || (rules.dropAllOther && Self.isOther(ch))
            {
                continue
            } else {
                current.unicodeScalars.append(ch)
            }
        }
        flush()
        return words
    }

    /// `[CLS]` + tokens + `[SEP]` as ids; unknown pieces become `[UNK]`.
    public func encode(_ text: String) throws -> [Int] { try encode(text, pair: nil, withTokens: false).ids }

    /// bert4keras `encode(first, second)`: `[CLS] first [SEP] second [SEP]`, with the tokens as
    /// written (an unknown word as itself), their ids and segment ids (0 through the first `[SEP]`, 1 after).
    public func encode(_ first: String, pair second: String?, withTokens: Bool = true) throws -> (
        tokens: [String], ids: [Int], segments: [Int]
    ) {
        let (cls, sep) = (try id("[CLS]"), try id("[SEP]"))
        var ids = [cls]
        var tokens: [String]? = withTokens ? ["[CLS]"] : nil
        try appendPieces(first, to: &ids, tokens: &tokens)
        ids.append(sep)
        tokens?.append("[SEP]")
        let firstCount = ids.count
        if let second {
            try appendPieces(second, to: &ids, tokens: &tokens)
            ids.append(sep)
            tokens?.append("[SEP]")
        }
        let segments = [Int](repeating: 0, count: firstCount) + [Int](repeating: 1, count: ids.count - firstCount)
        return (tokens ?? [], ids, segments)
    }

    private func id(_ token: String) throws -> Int {
        guard let id = vocabulary.id(of: token) ?? vocabulary.id(of: "[UNK]") else {
            throw CkptError(
                .malformed, file: vocabulary.path, "token '\(token)' is not in the vocabulary, which has no [UNK]")
        }
        return id
    }

    /// The pieces of `text` (no specials): ASCII text byte by byte through a class table (the
    /// same rules as `words`, which handles the rest), each word through the vocabulary tries.
    func appendPieces(_ text: String, to ids: inout [Int], tokens: inout [String]?) throws {
        var text = text
        let ascii = text.withUTF8 { b in b.allSatisfy { $0 < 0x80 } }
        guard ascii else {
            for word in words(text) {
                var w = word
                try w.withUTF8 { try appendWord($0, scalars: word.unicodeScalars.count, to: &ids, tokens: &tokens) }
            }
            return
        }
        var word: [UInt8] = []
        func flush() throws {
            guard !word.isEmpty else { return }
            try word.withUnsafeBufferPointer { try appendWord($0, scalars: $0.count, to: &ids, tokens: &tokens) }
            word.removeAll(keepingCapacity: true)
        }
        try text.withUTF8 { bytes in
            for b in bytes {
                switch AsciiClass.table[Int(b)] {
                case .space: try flush()
                case .punctuation:
                    try flush()
                    word.append(b)
                    try flush()
                case .dropped: continue
                case .other: word.append(rules.lowercase && b >= 0x41 && b <= 0x5a ? b + 32 : b)
                }
            }
            try flush()
        }
    }

    /// One word's piece ids (the word itself as one token, `[UNK]` unless it is in the vocabulary,
    /// when no piece sequence covers it or it is longer than `wordMaxLength` code points).
    private func appendWord(
        _ word: UnsafeBufferPointer<UInt8>, scalars: Int, to ids: inout [Int], tokens: inout [String]?
    ) throws {
        let mark = ids.count
        if scalars <= wordMaxLength && lookup.pieces(word, into: &ids) {
            if tokens != nil { tokens! += ids[mark...].map { vocabulary.tokens[$0] } }
            return
        }
        let whole = rules.unknownWordsAsUNK ? "[UNK]" : String(decoding: word, as: UTF8.self)
        ids.append(try id(whole))
        tokens?.append(whole)
    }

    /// bert4keras' `_word_piece_tokenize`: the pieces the vocabulary tries give (`lookup`, as
    /// `encode` uses them), or the word itself when they cover it not or it is too long.
    func wordPieces(_ word: String) -> [String] {
        var bytes = Array(word.utf8)
        var ids: [Int] = []
        let covered = bytes.withUnsafeMutableBufferPointer { b in
            word.unicodeScalars.count <= wordMaxLength && lookup.pieces(UnsafeBufferPointer(b), into: &ids)
        }
        return covered ? ids.map { vocabulary.tokens[$0] } : [word]
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

    /// transformers' per-character `lower()`: no context rule (Σ is σ everywhere).
    static func lowerEach(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for c in text.unicodeScalars { out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars) }
        return String(out)
    }

    /// Categories C* besides Cc/Cf (unassigned, private use, surrogates): transformers' `_is_control`.
    static func isOther(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
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

/// What bert4keras does with each ASCII character before WordPiece.
enum AsciiClass: UInt8 {
    case other, space, punctuation, dropped

    static let table: [AsciiClass] = (0..<128).map { v in
        switch v {
        case 0x20, 0x09, 0x0a, 0x0d: return .space
        case 0...0x1f, 0x7f: return .dropped  // Cc (and NUL): bert4keras drops control characters
        case 33...47, 58...64, 91...96, 123...126: return .punctuation
        default: return .other
        }
    }
}

/// How text is split before WordPiece: bert4keras' `Tokenizer` or transformers' `BertTokenizer`.
public struct WordPieceRules: Sendable, Equatable {
    public var lowercase: Bool
    /// NFD and drop nonspacing marks (both libraries: with lower-casing unless told otherwise).
    public var stripAccents: Bool
    /// A space around each CJK ideograph (`tokenize_chinese_chars`).
    public var splitCJK = true
    public var maxWordLength = 200
    /// A word no piece sequence covers, or longer than `maxWordLength`: `[UNK]` as a token
    /// (transformers) or the word itself, whose id is `[UNK]` (bert4keras).
    public var unknownWordsAsUNK = false
    /// transformers drops every C* character (unassigned, private use), bert4keras Cc and Cf only.
    public var dropAllOther = false
    /// bert4keras lower-cases the whole text with Python's `str.lower()` (Final_Sigma);
    /// transformers one character at a time.
    public var finalSigma = true

    public static func bert4keras(lowercase: Bool) -> WordPieceRules {
        WordPieceRules(lowercase: lowercase, stripAccents: lowercase)
    }

    /// transformers' `BertTokenizer` with a `tokenizer_config.json`'s `do_lower_case`,
    /// `strip_accents` (null: as `do_lower_case`) and `tokenize_chinese_chars`.
    public static func transformers(lowercase: Bool, stripAccents: Bool?, splitCJK: Bool) -> WordPieceRules {
        WordPieceRules(
            lowercase: lowercase, stripAccents: stripAccents ?? lowercase, splitCJK: splitCJK, maxWordLength: 100,
            unknownWordsAsUNK: true, dropAllOther: true, finalSigma: false)
    }
}
