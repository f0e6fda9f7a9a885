import CkptCore
import CkptTestSupport
import Foundation
import XCTest

@testable import CkptVocab

/// Every line of a multilingual corpus (Latin with accents, Greek, Cyrillic, Arabic, Hebrew,
/// Devanagari, Thai, CJK, Hangul, emoji, control and zero-width characters, fullwidth forms, very
/// long words; Fixtures/generate.py part `tokenizers`) through ckpt's tokenizers against the
/// reference libraries' ids: sentencepiece 0.2.3 (unigram with byte fallback, BPE, an identity
/// normalizer without dummy prefix, and the T5 fixture's model) and bert4keras 0.11.5.
final class TokenizerGoldenTests: XCTestCase {
    static let folder = Fixtures.path("tokenizers")

    static func corpus() throws -> [String] {
        var lines = try String(contentsOfFile: folder + "/corpus.txt", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    func testSentencePieceIdsAndNormalizationEqualTheLibrarys() throws {
        let golden = try Fixtures.json(Self.folder + "/golden.sp.json")
        let lines = try Self.corpus()
        let models = try XCTUnwrap(golden["models"] as? [String: [String: Any]])
        XCTAssertEqual(models.count, 4)
        for (name, m) in models.sorted(by: { $0.key < $1.key }) {
            let tokenizer = try SentencePieceTokenizer(path: Self.folder + "/" + name)
            XCTAssertEqual(tokenizer.spec.unkID, m["unk_id"] as? Int, name)
            XCTAssertEqual(tokenizer.spec.eosID, m["eos_id"] as? Int, name)
            XCTAssertEqual(tokenizer.spec.byteFallback, m["byte_fallback"] as? Bool, name)
            let normalizer = try XCTUnwrap(m["normalizer"] as? [String: Any])
            XCTAssertEqual(tokenizer.spec.addDummyPrefix, normalizer["add_dummy_prefix"] as? Bool, name)
            XCTAssertEqual(tokenizer.spec.removeExtraWhitespaces, normalizer["remove_extra_whitespaces"] as? Bool)
            XCTAssertEqual(tokenizer.spec.charsmap.count, normalizer["precompiled_charsmap_bytes"] as? Int, name)
            let rows = try XCTUnwrap(m["lines"] as? [[String: Any]])
            XCTAssertEqual(rows.count, lines.count, name)
            var wrong: [String] = []
            for (line, row) in zip(lines, rows) {
                let normalized = String(decoding: tokenizer.normalizer.normalize(line), as: UTF8.self)
                if let expected = row["normalized"] as? String, Array(normalized.utf8) != Array(expected.utf8) {
                    wrong.append("normalize \(line.debugDescription): \(normalized.debugDescription)")
                }
                let ids = tokenizer.encode(line)
                if ids != row["ids"] as? [Int] {
                    wrong.append("ids \(line.debugDescription): \(ids) vs \(row["ids"] ?? "")")
                }
            }
            XCTAssertEqual(wrong.count, 0, "\(name): \(wrong.prefix(3).joined(separator: "; "))")
        }
    }

    func testWordPieceEqualsBert4keras() throws {
        let golden = try Fixtures.json(Self.folder + "/golden.bert4keras.json")
        let lines = try Self.corpus()
        let tokenizers = try XCTUnwrap(golden["tokenizers"] as? [String: [String: Any]])
        XCTAssertEqual(tokenizers.count, 3)
        for (name, t) in tokenizers.sorted(by: { $0.key < $1.key }) {
            let vocabulary = try Vocabulary(path: Self.folder + "/" + (t["vocab"] as! String))
            let tokenizer = WordPieceTokenizer(vocabulary: vocabulary, lowercase: t["do_lower_case"] as? Bool)
            var wrong: [String] = []
            for (line, row) in zip(lines, try XCTUnwrap(t["lines"] as? [[String: Any]])) {
                let e = try tokenizer.encode(line, pair: nil)
                if e.ids != row["ids"] as? [Int] || e.tokens != row["tokens"] as? [String] {
                    wrong.append("\(line.debugDescription): \(e.tokens) vs \(row["tokens"] ?? "")")
                }
            }
            for row in try XCTUnwrap(t["pairs"] as? [[String: Any]]) {
                let e = try tokenizer.encode(lines[row["first"] as! Int], pair: lines[row["second"] as! Int])
                if e.ids != row["ids"] as? [Int] || e.segments != row["segment_ids"] as? [Int] {
                    wrong.append("pair \(row["first"]!), \(row["second"]!)")
                }
            }
            XCTAssertEqual(wrong.count, 0, "\(name): \(wrong.prefix(3).joined(separator: "; "))")
        }
    }

    /// transformers' BertTokenizer rules (what a Hub folder's tokenizer_config.json asks for):
    /// the ids of the fast tokenizer AutoTokenizer loads (the slow one's where they agree).
    func testWordPieceEqualsTransformers() throws {
        let golden = try Fixtures.json(Self.folder + "/golden.transformers.json")
        let lines = try Self.corpus()
        let tokenizers = try XCTUnwrap(golden["tokenizers"] as? [String: [String: Any]])
        XCTAssertEqual(tokenizers.count, 4)
        for (name, t) in tokenizers.sorted(by: { $0.key < $1.key }) {
            let vocabulary = try Vocabulary(path: Self.folder + "/" + (t["vocab"] as! String))
            let options = try XCTUnwrap(t["options"] as? [String: Any])
            let rules = WordPieceRules.transformers(
                lowercase: options["do_lower_case"] as? Bool ?? true, stripAccents: options["strip_accents"] as? Bool,
                splitCJK: options["tokenize_chinese_chars"] as? Bool ?? true)
            let tokenizer = WordPieceTokenizer(vocabulary: vocabulary, rules: rules)
            var wrong: [String] = []
            for (i, (line, row)) in zip(lines, try XCTUnwrap(t["lines"] as? [[String: Any]])).enumerated() {
                let expected = (row["ids_fast"] ?? row["ids"]) as? [Int]
                let ids = try tokenizer.encode(line, pair: nil).ids
                if ids != expected { wrong.append("line \(i) \(line.debugDescription): \(ids) vs \(expected ?? [])") }
            }
            XCTAssertEqual(wrong.count, 0, "\(name): \(wrong.prefix(3).joined(separator: "; "))")
        }
        // The real all-MiniLM-L6-v2 tokenizer (BertTokenizerFast from its tokenizer.json).
        let minilm = try XCTUnwrap(golden["all-MiniLM-L6-v2"] as? [String: Any])
        let encoder = try TextEncoder(path: Fixtures.path("vocab/bert-base-uncased"), lowercase: nil)
        var wrong = 0
        for (line, row) in zip(lines, try XCTUnwrap(minilm["lines"] as? [[String: Any]])) {
            if try encoder.encode(line).ids != row["ids"] as? [Int] { wrong += 1 }
        }
        XCTAssertEqual(wrong, 0, "all-MiniLM-L6-v2")
    }

    /// GPT-2's byte-level BPE (a small vocab.json / merges.txt trained with `tokenizers`) against
    /// transformers' GPT2Tokenizer (the fast one's ids where the two differ).
    func testByteLevelBPEEqualsTransformersGPT2Tokenizer() throws {
        let folder = Self.folder + "/gpt2"
        let golden = try Fixtures.json(folder + "/golden.json")
        let encoder = try TextEncoder(path: folder, lowercase: nil)
        guard case .byteLevelBPE = encoder.backend else { return XCTFail("not read as byte-level BPE") }
        let rows = try XCTUnwrap(golden["lines"] as? [[String: Any]])
        let lines = try Self.corpus()
        XCTAssertEqual(rows.count, lines.count)
        var wrong: [String] = []
        for (i, (line, row)) in zip(lines, rows).enumerated() {
            let expected = (row["ids_fast"] ?? row["ids"]) as? [Int]
            let ids = try encoder.encode(line).ids
            if ids != expected { wrong.append("line \(i) \(line.debugDescription): \(ids) vs \(expected ?? [])") }
            if let tokens = row["tokens"] as? [String] {
                XCTAssertEqual(try encoder.encode(line).tokens, tokens, "line \(i)")
            }
        }
        XCTAssertEqual(wrong.count, 0, wrong.prefix(3).joined(separator: "; "))
    }
}
