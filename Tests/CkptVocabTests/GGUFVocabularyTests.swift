import CkptCore
import CkptFormats
import CkptTestSupport
import XCTest

@testable import CkptVocab

/// The tokenizer keys of a GGUF file for the real bert-base-uncased vocabulary, against what
/// llama.cpp's converter (`--vocab-only`) writes for the same files (Fixtures/gguf/real_vocab.json):
/// the `▁`-word form of 30,522 tokens (continuations such as `##ा` lose their `##`), their types,
/// and the pre-tokenizer named by the hash of the ids transformers' tokenizer gives.
final class GGUFVocabularyTests: XCTestCase {
    func testRealVocabularyGivesTheConvertersTokenizerKeys() throws {
        let golden = try Fixtures.json(Fixtures.path("gguf/real_vocab.json"))
        let config = try XCTUnwrap(golden["config"] as? [String: Any])
        let folder = Fixtures.path("vocab/bert-base-uncased")
        let keys = try GGUFVocabulary.metadata(
            kind: "wordpiece", besides: folder, opened: folder + "/vocab.txt",
            vocabularyRows: config["vocab_size"] as? Int, typeVocabSize: config["type_vocab_size"] as? Int,
            config: config)
        let expected = try XCTUnwrap(golden["kv"] as? [[String: Any]])
        XCTAssertEqual(Set(keys.map(\.key)), Set(expected.map { $0["key"] as! String }))
        for e in expected {
            let key = e["key"] as! String
            let value = try XCTUnwrap(keys.first { $0.key == key }?.value, key)
            XCTAssertEqual(value.type.name, e["type"] as? String, key)
            if case .array(let itemType, let items) = value {
                let a = try XCTUnwrap(e["value"] as? [String: Any])
                XCTAssertEqual(itemType.name, a["item_type"] as? String, key)
                XCTAssertEqual(items.count, a["count"] as? Int, key)
                let joined = items.map { $0.stringValue ?? $0.integer.map(String.init) ?? "?" }.joined(separator: "\n")
                XCTAssertEqual(SHA256.hex(Array(joined.utf8)), a["sha256_joined"] as? String, key)
            } else if let s = value.stringValue {
                XCTAssertEqual(s, e["value"] as? String, key)
            } else {
                XCTAssertEqual(value.integer, e["value"] as? Int, key)
            }
        }
    }
}
