import CkptFormats
import CkptTestSupport
import Foundation
import XCTest

/// Adding a family is one JSON file: a family the binary has never seen, written here at test
/// time (BERT's table under another name, whose TF names start with `mybert/`), is converted
/// into, detected by `inspect`, run by `forward` (against bert4keras' own outputs for BERT's
/// weights) and converted again — all through `--mapping`, without a rebuild.
final class FamilyFromFileTests: ScratchTestCase {
    func table() throws -> String {
        let bert = URL(fileURLWithPath: Fixtures.root).deletingLastPathComponent().appendingPathComponent(
            "Mappings/bert.json")
        var t = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: bert)) as? [String: Any])
        t["family"] = "mybert"
        t["description"] = "a family the binary has never seen"
        for key in ["hf_config", "hf_tied", "keras_graph"] { t[key] = nil }
        func renamed(_ v: Any) -> Any {
            if let s = v as? String { return s.replacingOccurrences(of: "bert/", with: "mybert/") }
            var d = v as! [String: Any]
            d["name"] = (d["name"] as! String).replacingOccurrences(of: "bert/", with: "mybert/")
            return d
        }
        t["rules"] = (t["rules"] as! [[String: Any]]).map { r in
            var r = r
            r["release"] = r["tf"]  // the BERT release's names, to read the BERT fixture
            r["tf"] = renamed(r["tf"]!)
            r["keras"] = nil
            r["hf"] = nil
            return r
        }
        t["detect"] = [
            "tf": [
                "require": ["mybert/embeddings/word_embeddings", "mybert/encoder/layer_0/attention/self/query/kernel"]
            ]
        ]
        let path = scratch + "/mybert.json"
        try JSONSerialization.data(withJSONObject: t).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testAFamilyIsOneFile() throws {
        let mapping = try table()
        let out = scratch + "/mybert"
        let c = try CLI.run([
            "convert", Fixtures.path("families/bert"), "--model", "mybert", "--mapping", mapping,
            "--layout", "tf", "--to", out,
        ])
        XCTAssertEqual(c.status, 0, c.stderr)
        let tf = try TFBundleReader(path: out)
        XCTAssertTrue(tf.tensors.contains { $0.name == "mybert/embeddings/word_embeddings" })

        // Detected by its names alone.
        let inspect = try CLI.run(["inspect", out, "--mapping", mapping, "--json"])
        let listing = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(listing["architecture"] as? String, "mybert", inspect.stdout)
        XCTAssertNotEqual(try CLI.run(["inspect", out, "--json"]).stdout.contains("\"mybert\""), true)

        // Run from the table's forward block, against bert4keras' outputs for these weights.
        let golden = try NPZReader(path: Fixtures.path("families/bert/forward/encoder.npz"))
        func values<T>(_ name: String, _ type: T.Type) throws -> [T] {
            try golden.withBytes(of: try golden.tensor(named: name)) { Array($0.bindMemory(to: T.self)) }
        }
        let ids =
            try golden.tensor(named: "token_ids").dtype == .int64
            ? try values("token_ids", Int64.self).map(String.init)
            : try values("token_ids", Int32.self).map(String.init)
        let segments =
            try golden.tensor(named: "segment_ids").dtype == .int64
            ? try values("segment_ids", Int64.self).map(String.init)
            : try values("segment_ids", Int32.self).map(String.init)
        let npz = scratch + "/out.npz"
        let f = try CLI.run([
            "forward", out, "--mapping", mapping, "--tokens", ids.joined(separator: ","),
            "--segments", segments.joined(separator: ","), "--output", npz,
        ])
        XCTAssertEqual(f.status, 0, f.stderr)
        let ours = try NPZReader(path: npz)
        let hidden = try ours.withBytes(of: try ours.tensor(named: "hidden")) { Array($0.bindMemory(to: Float.self)) }
        let expected = try values("hidden", Float.self)
        XCTAssertEqual(hidden.count, expected.count)
        XCTAssertLessThanOrEqual(zip(hidden, expected).map { abs($0 - $1) }.max() ?? .infinity, 1e-4)

        // And converted on.
        let n = try CLI.run(["convert", out, "--mapping", mapping, "--to", scratch + "/native"])
        XCTAssertEqual(n.status, 0, n.stderr)
        XCTAssertTrue(n.stderr.contains("mybert"), n.stderr)
    }
}
