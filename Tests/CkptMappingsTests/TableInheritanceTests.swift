import CkptMappings
import CkptTableMerge
import CkptCore
import Foundation
import XCTest

/// `extends`: a child table as a merge patch of its base, rules merged by native name.
final class TableInheritanceTests: XCTestCase {
    let base: [String: Any] = [
        "family": "base", "keep": 1, "detect": ["tf": ["require": ["a"]]],
        "hf_tied": ["p.tied": "p.a"],
        "rules": [["native": "A", "tf": "a", "hf": "p.a"], ["native": "B", "tf": "b"], ["native": "C", "tf": "c"]],
    ]

    func resolve(_ child: [String: Any], tables: [[String: Any]]) throws -> [String: Any] {
        try TableInheritance.resolve(child, origin: "child.json") { name in
            tables.first { $0["family"] as? String == name }
        }
    }

    func testChildIsAMergePatchWithRulesByNativeName() throws {
        let child: [String: Any] = [
            "family": "child", "extends": "base", "keep": NSNull(), "extra": 2,
            "detect": ["tf": ["require": ["b"]]],
            "rename": ["hf": [["p.", "q."]]],
            "rules": [
                ["native": "N", "tf": "n"], ["native": "B", "tf": "b2"], ["native": "C", "remove": true],
                ["native": "M", "tf": "m"],
            ],
        ]
        let r = try resolve(child, tables: [base])
        XCTAssertEqual(r["family"] as? String, "child")
        XCTAssertNil(r["keep"])
        XCTAssertEqual(r["extra"] as? Int, 2)
        XCTAssertEqual((r["detect"] as? [String: [String: [String]]])?["tf"]?["require"], ["b"])
        XCTAssertEqual(r["hf_tied"] as? [String: String], ["q.tied": "q.a"])
        let rules = try XCTUnwrap(r["rules"] as? [[String: Any]])
        XCTAssertEqual(rules.map { $0["native"] as! String }, ["A", "N", "B", "M"])
        XCTAssertEqual(rules[0]["hf"] as? String, "q.a")
        XCTAssertEqual(rules[2]["tf"] as? String, "b2")
    }

    func testUnknownBaseAndLoopsAreErrors() {
        XCTAssertThrowsError(try resolve(["family": "x", "extends": "nobody"], tables: [base]))
        let a: [String: Any] = ["family": "a", "extends": "b", "rules": []]
        let b: [String: Any] = ["family": "b", "extends": "a", "rules": []]
        XCTAssertThrowsError(try resolve(a, tables: [a, b])) { e in
            XCTAssertTrue("\(e)".contains("deep"), "\(e)")
        }
        // Through the table parser: one line naming the file.
        let looped = try! JSONSerialization.data(withJSONObject: ["family": "x", "extends": "nobody"])
        XCTAssertThrowsError(try MappingTable.parse(looped, origin: "x.json")) { e in
            XCTAssertEqual((e as? CkptError)?.kind, .malformed)
            XCTAssertEqual((e as? CkptError)?.file, "x.json")
        }
    }

    /// The built-in tables that extend another decode (their bases are built in too) and keep
    /// their own forward block and names.
    func testBuiltInChildren() throws {
        let nezha = try XCTUnwrap(MappingTable.named("nezha"))
        XCTAssertEqual(nezha.forward?.positions, .relative)
        XCTAssertTrue(nezha.rules.contains { $0.layouts["hf"]?.template == "nezha.embeddings.word_embeddings.weight" })
        XCTAssertFalse(nezha.rules.contains { $0.native == "embeddings.position.weight" })
        let t5 = try XCTUnwrap(MappingTable.named("t5.1.1"))
        XCTAssertTrue(t5.rules.contains { $0.native == "lm_head.weight" })
    }
}
