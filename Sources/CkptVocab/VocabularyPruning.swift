import CkptCore

/// How `prune` chooses the rows to keep, each rule as bert4keras defines it.
public enum VocabularyPruning {
    /// A kept vocabulary: old ids in new order, the new token list, and warnings for stderr.
    public struct Result: Sendable {
        public var keep: [Int]
        public var tokens: [String]
        public var compound: [[Int]] = []
        public var warnings: [String] = []
    }

    static let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    /// `--keep-tokens FILE`: one token a line, in the new order (blank lines ignored).
    public static func keepFile(_ path: String, vocabulary: Vocabulary) throws -> Result {
        let lines = try FileSystem.readText(path).split(separator: "\n", omittingEmptySubsequences: true)
            .map { String($0.trimmingCharacters(in: "\r")) }.filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw CkptError(.malformed, file: path, "keeps no tokens") }
        var seen = Set<String>()
        var duplicates: [String] = [], missing: [String] = []
        var keep: [Int] = []
        for t in lines {
            if !seen.insert(t).inserted { duplicates.append(t); continue }
            guard let id = vocabulary.id(of: t) else { missing.append(t); continue }
            keep.append(id)
        }
        guard missing.isEmpty else {
            throw CkptError(
                .malformed, file: path,
                "\(missing.count) token(s) are not in \(vocabulary.path): "
                    + missing.prefix(5).joined(separator: " "))
        }
        guard duplicates.isEmpty else {
            throw CkptError(
                .malformed, file: path, "token(s) listed twice: " + duplicates.prefix(5).joined(separator: " "))
        }
        return finish(Result(keep: keep, tokens: keep.map { vocabulary.tokens[$0] }), vocabulary: vocabulary)
    }

    /// `--simplified`: bert4keras `load_vocab(simplified=True, startswith=...)`: the start tokens
    /// first, then every token in id order that is not "redundant" (longer than one character
    /// with a CJK character or punctuation in its stem, which WordPiece can never produce).
    public static func simplified(_ vocabulary: Vocabulary, startswith: [String]?) throws -> Result {
        let start = startswith ?? specials.filter { vocabulary.id(of: $0) != nil }
        var keep: [Int] = []
        var taken = Set<Int>()
        for t in start {
            guard let id = vocabulary.id(of: t) else {
                throw CkptError(.malformed, file: vocabulary.path, "start token '\(t)' is not in the vocabulary")
            }
            if taken.insert(id).inserted { keep.append(id) }
        }
        for (id, t) in vocabulary.tokens.enumerated()
        where !taken.contains(id) && !isRedundant(t) && vocabulary.id(of: t) == id {
            keep.append(id)
            taken.insert(id)
        }
        return finish(Result(keep: keep, tokens: keep.map { vocabulary.tokens[$0] }), vocabulary: vocabulary)
    }

    /// bert4keras' `Tokenizer.stem` and checks, per code point: `"##ा"` is one Swift `Character`
    /// (the mark joins the second `#`), so a `Character` prefix test would miss its `##`.
    static func isRedundant(_ token: String) -> Bool {
        let scalars = token.unicodeScalars
        guard scalars.count > 1 else { return false }
        let stem = scalars.starts(with: "##".unicodeScalars) ? scalars.dropFirst(2) : scalars[...]
        return stem.contains { WordPieceTokenizer.isCJK($0) || WordPieceTokenizer.isPunctuation($0) }
    }

    /// `--corpus FILES --min-count N`: the special tokens, then every token WordPiece produces on
    /// the texts at least N times, in vocabulary order.
    public static func corpus(_ files: [String], vocabulary: Vocabulary, minCount: Int) throws -> Result {
        let tokenizer = WordPieceTokenizer(vocabulary: vocabulary)
        var counts: [Int: Int] = [:]
        var words = 0, unknown = 0
        for f in files {
            for line in try FileSystem.readText(f).split(separator: "\n") {
                let lists = tokenizer.wordPieceLists(String(line))
                words += lists.count
                unknown += lists.filter { $0.count == 1 && vocabulary.id(of: $0[0]) == nil }.count
                for id in try tokenizer.encode(String(line), pair: nil, withTokens: false).ids {
                    counts[id, default: 0] += 1
                }
            }
        }
        let special = Set(specials.compactMap { vocabulary.id(of: $0) })
        let keep = vocabulary.tokens.indices.filter {
            special.contains($0) || (counts[$0] ?? 0) >= minCount && vocabulary.id(of: vocabulary.tokens[$0]) == $0
        }
        var result = finish(Result(keep: keep, tokens: keep.map { vocabulary.tokens[$0] }), vocabulary: vocabulary)
        // More than 5 %: the corpus and the vocabulary disagree (case, script), the kept rows miss it.
        if unknown * 20 > words {
            result.warnings.append(
                "\(unknown) of the corpus' \(words) words (\(unknown * 100 / words) %) have no token but [UNK] "
                    + "(lower-casing \(tokenizer.lowercase ? "on" : "off"))")
        }
        return result
    }

    /// `--corpus` on a SentencePiece model: every piece the model's own encoding of the texts
    /// (with `</s>`) uses at least N times, and the byte pieces a byte-fallback model needs for
    /// anything else, in model order (control and unknown pieces are kept by the caller).
    public static func corpus(_ files: [String], sentencePiece path: String, minCount: Int) throws -> Result {
        let tokenizer = try SentencePieceTokenizer(path: path)
        var counts: [Int: Int] = [:]
        var pieces = 0, unknown = 0
        for f in files {
            for line in try FileSystem.readText(f).split(separator: "\n") {
                let ids = tokenizer.encode(String(line)) + (tokenizer.eosID.map { [$0] } ?? [])
                pieces += ids.count
                unknown += ids.filter { $0 == tokenizer.vocabulary.unkID }.count
                for id in ids { counts[id, default: 0] += 1 }
            }
        }
        let kinds = tokenizer.vocabulary.kinds
        let keep = kinds.indices.filter { kinds[$0] == .byte || (counts[$0] ?? 0) >= minCount }
        var result = Result(keep: keep, tokens: keep.map { tokenizer.model.pieces[$0].piece })
        if unknown * 20 > pieces {
            result.warnings.append(
                "\(unknown) of the corpus' \(pieces) pieces (\(unknown * 100 / max(pieces, 1)) %) are unknown")
        }
        return result
    }

    /// `--compound-tokens FILE`: lines `NEW_TOKEN<TAB>tok1 tok2 ...`, each a new row, the mean
    /// of the listed tokens' rows (of the original vocabulary).
    public static func addCompounds(_ path: String, to result: inout Result, vocabulary: Vocabulary) throws {
        for (n, line) in try FileSystem.readText(path).split(separator: "\n").enumerated()
        where !line.trimmingCharacters(in: " \r").isEmpty {
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2 else {
                throw CkptError(.malformed, file: path, "line \(n + 1): expected NEW_TOKEN<TAB>tok1 tok2 ...")
            }
            let name = String(parts[0])
            let items = parts[1].split(separator: " ").map(String.init).filter { !$0.isEmpty }
            let unknown = items.filter { vocabulary.id(of: $0) == nil }
            guard unknown.isEmpty, !items.isEmpty else {
                throw CkptError(
                    .malformed, file: path,
                    "line \(n + 1): unknown token(s) " + unknown.prefix(5).joined(separator: " "))
            }
            guard !result.tokens.contains(name) else {
                throw CkptError(.malformed, file: path, "line \(n + 1): '\(name)' is already in the new vocabulary")
            }
            result.compound.append(items.map { vocabulary.id(of: $0)! })
            result.tokens.append(name)
        }
    }

    static func finish(_ r: Result, vocabulary: Vocabulary) -> Result {
        var r = r
        if r.keep.isEmpty { return r }
        if let unk = vocabulary.id(of: "[UNK]"), !r.keep.contains(unk) {
            r.warnings.append("[UNK] is not kept: unknown words will have no id")
        }
        return r
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let drop = Set(set)
        return String(self.drop(while: { drop.contains($0) }).reversed().drop(while: { drop.contains($0) }).reversed())
    }
}
