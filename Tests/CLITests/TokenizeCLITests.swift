import CkptTestSupport
import Foundation
import XCTest

/// `ckpt tokenize` against bert4keras' own `Tokenizer` (Fixtures/vocab/tokenize.json: `encode`
/// of every text and of pairs, uncased and cased).
final class TokenizeCLITests: ScratchTestCase {
    let vocab = Fixtures.path("vocab/vocab.txt")

    func golden(_ key: String) throws -> [[String: Any]] {
        try XCTUnwrap(try Fixtures.json(Fixtures.path("vocab/tokenize.json"))[key] as? [[String: Any]])
    }

    /// A command-line argument cannot hold U+0000 (the text with one goes through `--file`).
    func fitsArgv(_ texts: String?...) -> Bool { texts.allSatisfy { !($0 ?? "").unicodeScalars.contains("\u{0}") } }

    func testTextsGiveBert4kerasIds() throws {
        for (key, flag) in [("uncased", "--lowercase"), ("cased", "--cased")] {
            let cases = try golden(key).filter { fitsArgv($0["text"] as? String) }
            let args = cases.flatMap { ["--text", $0["text"] as! String] }
            let r = try CLI.run(["tokenize", vocab, flag] + args)
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            XCTAssertEqual(lines.count, cases.count)
            for (line, c) in zip(lines, cases) {
                let ids = (c["ids"] as! [Int]).map(String.init).joined(separator: ",")
                XCTAssertEqual(String(line), ids, "\(key): \(c["what"] as! String)")
            }
        }
    }

    func testPairsGiveBert4kerasIdsAndSegments() throws {
        for (key, flag) in [("uncased_pairs", "--lowercase"), ("cased_pairs", "--cased")] {
            for c in try golden(key) where fitsArgv(c["first"] as? String, c["second"] as? String) {
                let r = try CLI.run([
                    "tokenize", vocab, flag, "--json", "--text", c["first"] as! String,
                    "--pair", c["second"] as! String,
                ])
                XCTAssertEqual(r.status, 0, r.stderr)
                let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
                XCTAssertEqual(o["ids"] as? [Int], c["ids"] as? [Int], "\(key): \(c["first"] as! String)")
                XCTAssertEqual(o["segments"] as? [Int], c["segments"] as? [Int])
                XCTAssertEqual((o["tokens"] as? [String])?.count, (c["ids"] as? [Int])?.count)
            }
        }
    }

    /// A file: one line of ids per line, in order, across batches (more lines than one batch).
    func testFileLinesInOrder() throws {
        let cases = try golden("uncased").filter { c in
            !(c["text"] as! String).unicodeScalars.contains { $0 == "\n" || $0 == "\r" }
        }
        var lines: [String] = []
        var expected: [String] = []
        for k in 0..<5000 {
            let c = cases[k % cases.count]
            lines.append(c["text"] as! String)
            expected.append((c["ids"] as! [Int]).map(String.init).joined(separator: ","))
        }
        let file = scratch + "/texts.txt"
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try CLI.run(["tokenize", Fixtures.path("vocab"), "--lowercase", "--file", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(
            r.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init), expected)
    }

    func testUsageAndUnsupported() throws {
        XCTAssertEqual(try CLI.run(["tokenize", vocab]).status, 2)
        XCTAssertEqual(try CLI.run(["tokenize", vocab, "--text", "a", "--text", "b", "--pair", "c"]).status, 2)
        XCTAssertEqual(try CLI.run(["tokenize", vocab, "--text", "a", "--lowercase", "--cased"]).status, 2)
        let missing = try CLI.run(["tokenize", scratchFolder(), "--text", "a"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }

    /// A SentencePiece model: the ids the `sentencepiece` package gave for each text
    /// (Fixtures/spm/golden.json), then `</s>`, as T5 and bert4keras' SpTokenizer feed them.
    func testSentencePieceIdsEqualTheLibrarysWithEOS() throws {
        let golden = try Fixtures.json(Fixtures.path("spm/golden.json"))
        let eos = try XCTUnwrap((golden["special_ids"] as? [String: Int])?["eos_id"])
        let texts = try XCTUnwrap(golden["texts"] as? [[String: Any]])
        XCTAssertFalse(texts.isEmpty)
        for t in texts {
            let r = try CLI.run(["tokenize", Fixtures.path("spm/spiece.model"), "--text", t["text"] as! String])
            XCTAssertEqual(r.status, 0, r.stderr)
            let expected = ((t["original_ids"] as! [Int]) + [eos]).map(String.init).joined(separator: ",")
            XCTAssertEqual(r.stdout, expected + "\n", t["text"] as! String)
        }
    }

    func scratchFolder() -> String {
        let path = NSTemporaryDirectory() + "ckpt-empty-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
