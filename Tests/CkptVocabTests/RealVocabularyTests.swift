import CkptCore
import CkptTestSupport
import CkptVocab
import Foundation
import XCTest

/// The real bert-base-uncased vocabulary (as sentence-transformers' all-MiniLM-L6-v2 ships it,
/// copied by Fixtures/generate.py part `real_vocab`) against bert4keras: its simplified vocabulary
/// (29,191 tokens: "##ा" and its kind are kept) and its ids on lines in many scripts.
final class RealVocabularyTests: XCTestCase {
    let folder = Fixtures.path("vocab/bert-base-uncased")

    func golden() throws -> [String: Any] { try Fixtures.json(folder + "/golden.json") }

    func testSimplifiedEqualsBert4keras() throws {
        let vocabulary = try Vocabulary(path: folder + "/vocab.txt")
        let expected = try XCTUnwrap(try golden()["simplified"] as? [String: Any])
        let result = try VocabularyPruning.simplified(vocabulary, startswith: expected["startswith"] as? [String])
        XCTAssertEqual(result.keep.count, expected["count"] as? Int)
        XCTAssertEqual(result.keep, expected["keep_tokens"] as? [Int])
    }

    /// Lower-cased as its tokenizer_config.json says (which makes the folder a Hub one, tokenized
    /// by transformers' rules: TokenizerGoldenTests), and as its letters say without it (ℝ is an
    /// upper-case letter, but not an ASCII one); with bert4keras' rules, bert4keras' ids.
    func testIdsEqualBert4keras() throws {
        let encoder = try TextEncoder(path: folder, lowercase: nil)
        XCTAssertEqual(
            try XCTUnwrap(encoder.wordPiece).rules, .transformers(lowercase: true, stripAccents: nil, splitCJK: true))
        let tokenizer = WordPieceTokenizer(vocabulary: try Vocabulary(path: folder + "/vocab.txt"))
        XCTAssertTrue(tokenizer.lowercase)
        let rows = try XCTUnwrap(try golden()["uncased"] as? [[String: Any]])
        XCTAssertGreaterThan(rows.count, 40)
        for row in rows {
            let text = row["text"] as! String
            XCTAssertEqual(try tokenizer.encode(text), row["ids"] as? [Int], text)
        }
    }
}
