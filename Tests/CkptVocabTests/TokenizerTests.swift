import CkptCore
import CkptTestSupport
import CkptVocab
import Foundation
import XCTest

/// WordPiece tokenization against bert4keras' own `Tokenizer` on a Chinese-BERT-style vocabulary
/// (Fixtures/vocab/tokenize.json, from Fixtures/generate.py part `vocab`).
final class TokenizerTests: XCTestCase {
    func check(_ key: String, lowercase: Bool) throws {
        let vocab = try Vocabulary(path: Fixtures.path("vocab/vocab.txt"))
        let tokenizer = WordPieceTokenizer(vocabulary: vocab, lowercase: lowercase)
        let json = try Fixtures.json(Fixtures.path("vocab/tokenize.json"))
        let cases = try XCTUnwrap(json[key] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 20)
        for c in cases {
            let text = c["text"] as! String
            let expectedIds = c["ids"] as! [Int]
            XCTAssertEqual(try tokenizer.encode(text), expectedIds, "\(key): \(c["what"] as? String ?? text)")
        }
    }

    func testUncasedMatchesBert4keras() throws { try check("uncased", lowercase: true) }
    func testCasedMatchesBert4keras() throws { try check("cased", lowercase: false) }

    /// Case is detected from ASCII letters only: an uncased vocabulary may hold other upper-case
    /// letters (bert-base-uncased has ℝ, U+211D), which must not make it cased.
    func testCaseIsDetectedFromASCIILetters() throws {
        let dir = NSTemporaryDirectory() + "ckpt-case-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (tokens, lowercase) in [
            (["\u{211D}", "the", "##s"], true), (["\u{211D}", "The"], false), (["\u{0394}"], true),
        ] {
            let path = dir + "/vocab.txt"
            try (["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + tokens).joined(separator: "\n").write(
                toFile: path, atomically: true, encoding: .utf8)
            XCTAssertEqual(WordPieceTokenizer(vocabulary: try Vocabulary(path: path)).lowercase, lowercase, "\(tokens)")
        }
    }

    /// A vocab.txt saved with CRLF line ends reads as bert4keras reads it (Python's universal
    /// newlines): the same tokens and ids as with LF. "\r\n" is one Swift Character, so a reader
    /// splitting Characters on "\n" would see one line.
    func testCRLFLineEndsReadAsLF() throws {
        let vocab = try Vocabulary(path: Fixtures.path("vocab/vocab.txt"))
        let dir = NSTemporaryDirectory() + "ckpt-crlf-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/vocab.txt"
        try (vocab.tokens.joined(separator: "\r\n") + "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
        let crlf = try Vocabulary(path: path)
        XCTAssertEqual(crlf.tokens, vocab.tokens)
        XCTAssertEqual(vocab.tokens.map { crlf.id(of: $0) }, vocab.tokens.map { vocab.id(of: $0) })
    }

    /// `prune --corpus` says when the corpus and the vocabulary disagree: more than 5 % of its
    /// words without a token but [UNK].
    func testCorpusWarnsWhenWordsAreUnknown() throws {
        let vocab = try Vocabulary(path: Fixtures.path("vocab/vocab.txt"))
        let dir = NSTemporaryDirectory() + "ckpt-corpus-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (text, warns) in [("hello world\n今天天气很好\n", false), ("xyzzy qwerty hello\nfoo bar\n", true)] {
            try text.write(toFile: dir + "/c.txt", atomically: true, encoding: .utf8)
            let r = try VocabularyPruning.corpus([dir + "/c.txt"], vocabulary: vocab, minCount: 1)
            XCTAssertEqual(r.warnings.contains { $0.contains("[UNK]") }, warns, "\(text): \(r.warnings)")
        }
    }

    func testVocabularyReadsLikeLoadVocab() throws {
        let vocab = try Vocabulary(path: Fixtures.path("vocab/vocab.txt"))
        // The size bert4keras' load_vocab gave (generate.py, part vocab).
        XCTAssertEqual(vocab.count, try Fixtures.json(Fixtures.path("vocab/tokenize.json"))["vocab_size"] as? Int)
        XCTAssertEqual(vocab.id(of: "[CLS]"), 7)
        XCTAssertEqual(vocab.id(of: "[UNK]"), 6)
        // The vocabulary holds cased tokens (Hello, NBA): it is not taken as uncased by default.
        XCTAssertFalse(WordPieceTokenizer(vocabulary: vocab).lowercase)
    }
}

/// Vocabulary selection rules against bert4keras' own `load_vocab(simplified=True)`.
final class PruningRuleTests: XCTestCase {
    func testSimplifiedKeepsExactlyWhatBert4kerasKeeps() throws {
        let vocab = try Vocabulary(path: Fixtures.path("vocab/vocab.txt"))
        let json = try Fixtures.json(Fixtures.path("vocab/simplified.json"))
        for key in ["with_startswith", "without_startswith"] {
            let golden = try XCTUnwrap(json[key] as? [String: Any], key)
            let start = golden["startswith"] as? [String] ?? []
            let ours = try VocabularyPruning.simplified(vocab, startswith: start)
            XCTAssertEqual(ours.keep, golden["keep_tokens"] as? [Int], key)
            XCTAssertEqual(ours.tokens, golden["tokens"] as? [String], key)
        }
    }

    func testKeepFileErrors() throws {
        let vocab = try Vocabulary(path: Fixtures.path("vocab/vocab.txt"))
        let dir = NSTemporaryDirectory() + "ckpt-keep-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func run(_ text: String) -> CkptError? {
            try? Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/keep.txt"))
            do { _ = try VocabularyPruning.keepFile(dir + "/keep.txt", vocabulary: vocab) } catch let e as CkptError {
                return e
            } catch {}
            return nil
        }
        XCTAssertTrue(run("[CLS]\nno-such-token\n")?.detail.contains("no-such-token") ?? false)
        XCTAssertTrue(run("[CLS]\n[CLS]\n")?.detail.contains("twice") ?? false)
        XCTAssertNotNil(run("\n\n"))
        let ok = try VocabularyPruning.keepFile(
            {
                try? Data("[CLS]\n[SEP]\n".utf8).write(to: URL(fileURLWithPath: dir + "/k2.txt"));
                return dir + "/k2.txt"
            }(), vocabulary: vocab)
        XCTAssertEqual(ok.keep, [7, 8])
        XCTAssertEqual(ok.warnings.count, 1)  // [UNK] not kept
    }
}

extension PruningRuleTests {
    /// `--corpus`: the specials plus every id bert4keras' tokenizer produces at least N times on the
    /// texts (counted from the goldens), in vocabulary order.
    func testCorpusKeepsTokensSeenOftenEnough() throws {
        let vocab = try Vocabulary(path: Fixtures.path("vocab/vocab.txt"))
        let cases = try XCTUnwrap(try Fixtures.json(Fixtures.path("vocab/tokenize.json"))["cased"] as? [[String: Any]])
        // One text a line; texts holding a line break are left out (they would split).
        let usable = cases.filter { !($0["text"] as! String).contains(where: { $0.isNewline }) }
        let file = NSTemporaryDirectory() + "ckpt-corpus-" + UUID().uuidString
        try Data(usable.map { $0["text"] as! String }.joined(separator: "\n").utf8).write(
            to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        var counts: [Int: Int] = [:]
        for c in usable { for id in c["ids"] as! [Int] { counts[id, default: 0] += 1 } }
        for minCount in [1, 2] {
            let specials = Set(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].compactMap { vocab.id(of: $0) })
            let expected = (0..<vocab.count).filter { specials.contains($0) || (counts[$0] ?? 0) >= minCount }
            let ours = try VocabularyPruning.corpus([file], vocabulary: vocab, minCount: minCount)
            XCTAssertEqual(ours.keep, expected, "min count \(minCount)")
        }
    }
}

/// SentencePiece model files against the `sentencepiece` package (Fixtures/spm/golden.json).
final class SentencePieceTests: XCTestCase {
    func goldenPieces(_ list: [[String: Any]]) -> [SentencePieceModel.Piece] {
        list.map {
            SentencePieceModel.Piece(
                piece: $0["piece"] as! String, score: Float(($0["score"] as! NSNumber).doubleValue),
                type: Int32($0["type"] as! Int))
        }
    }

    func testPiecesAreReadAsSentencePieceReadsThem() throws {
        let model = try SentencePieceModel(path: Fixtures.path("spm/spiece.model"))
        let golden = try Fixtures.json(Fixtures.path("spm/golden.json"))
        XCTAssertEqual(model.pieces, goldenPieces(golden["pieces"] as! [[String: Any]]))
    }

    /// Reserved pieces first, then keep.txt's order; the rewritten file parses to exactly that list.
    func testPrunedModelHoldsTheExpectedPieces() throws {
        let model = try SentencePieceModel(path: Fixtures.path("spm/spiece.model"))
        let golden = try Fixtures.json(Fixtures.path("spm/golden.json"))
        let keep = try VocabularyPruning.keepFile(Fixtures.path("spm/keep.txt"), vocabulary: model.vocabulary)
        let order = model.prunedOrder(keep: keep.keep)
        let bytes = try model.serialized(order: order)
        let path = NSTemporaryDirectory() + "ckpt-spm-" + UUID().uuidString + ".model"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pruned = try SentencePieceModel(path: path)
        let expected =
            (golden["pruned"] as? [String: Any])?["pieces"] as? [[String: Any]] ?? golden["pruned"] as! [[String: Any]]
        XCTAssertEqual(pruned.pieces, goldenPieces(expected))
        // Everything but the pieces (trainer and normalizer specs) is carried over.
        let removed = order.count < model.pieces.count
        XCTAssertTrue(removed)
        XCTAssertGreaterThan(bytes.count, 200_000)
    }
}
