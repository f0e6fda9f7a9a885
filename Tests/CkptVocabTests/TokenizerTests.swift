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

    func testVocabularyReadsLikeLoadVocab() throws {
        let vocab = try Vocabulary(path: Fixtures.path("vocab/vocab.txt"))
        XCTAssertEqual(vocab.count, 595)
        XCTAssertEqual(vocab.id(of: "[CLS]"), 7)
        XCTAssertEqual(vocab.id(of: "[UNK]"), 6)
        // The vocabulary holds cased tokens (Hello, NBA): it is not taken as uncased by default.
        XCTAssertFalse(WordPieceTokenizer(vocabulary: vocab).lowercase)
    }
}
