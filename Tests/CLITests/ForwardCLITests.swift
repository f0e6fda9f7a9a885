import CkptFormats
import CkptTestSupport
import Foundation
import XCTest

/// `ckpt forward`, `verify` and `diff` as a user runs them.
final class ForwardCLITests: ScratchTestCase {
    func run(_ args: String...) throws -> CLI.Run { try CLI.run(args) }

    func testForwardBadInputIsOneLineExitOne() throws {
        let bert = Fixtures.path("families/bert")
        let cases: [[String]] = [
            ["--tokens", "2,64,3"],  // id ≥ vocab (64)
            ["--tokens", "2,-1,3"],  // negative
            ["--tokens", (0..<40).map { _ in "5" }.joined(separator: ",")],  // longer than 32 positions
            ["--tokens", "2,5,3", "--segments", "0,1"],  // segments of another length
            ["--tokens", "2,5,3", "--heads", "discriminator"],  // a head BERT lacks
        ]
        for extra in cases {
            let r = try CLI.run(["forward", bert] + extra)
            XCTAssertEqual(r.status, 1, extra.joined(separator: " ") + ": " + r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        XCTAssertEqual(try run("forward", bert, "--tokens", "").status, 2)
        XCTAssertEqual(try run("forward", bert).status, 2)
        XCTAssertEqual(
            try run("forward", Fixtures.path("families/t5.1.1"), "--tokens", "5,6", "--decoder-tokens", "64").status, 1)
    }

    /// The first golden case of every family through `ckpt forward`, on 1, 2, 3 and 5 workers
    /// (`CKPT_THREADS`: other splits of the heads and feed-forward columns into partial sums
    /// than the in-process goldens run), within 1e-4 of bert4keras.
    func testForwardMatchesTheGoldensOnAnyWorkerCount() throws {
        for family in ["bert", "albert", "nezha", "roformer", "electra", "gpt", "gpt2", "gpt2_ml", "t5.1.0", "t5.1.1"] {
            let dir = Fixtures.path("families/\(family)")
            let cases = try Fixtures.json(dir + "/forward/cases.json")["cases"] as! [[String: Any]]
            let first = try XCTUnwrap(cases.first, family)
            let golden = try NPZReader(path: dir + "/forward/" + (first["file"] as! String))
            func ids(_ name: String) throws -> String? {
                guard let t = golden.tensors.first(where: { $0.name == name }) else { return nil }
                return try golden.withBytes(of: t) { b in
                    t.dtype == .int64
                        ? b.bindMemory(to: Int64.self).map(String.init).joined(separator: ",")
                        : b.bindMemory(to: Int32.self).map(String.init).joined(separator: ",")
                }
            }
            var args = ["forward", dir, "--tokens", try XCTUnwrap(ids("token_ids"))]
            if let s = try ids("segment_ids") { args += ["--segments", s] }
            if let d = try ids("decoder_token_ids") { args += ["--decoder-tokens", d] }
            if let a = first["application"] as? String { args += ["--application", a] }
            let flags = first["heads"] as? [String: Bool] ?? [:]
            let heads = [
                ("with_pool", "pool"), ("with_nsp", "nsp"), ("with_mlm", "mlm"),
                ("with_discriminator", "discriminator"),
            ]
            .filter { flags[$0.0] == true }.map(\.1)
            if !heads.isEmpty { args += ["--heads", heads.joined(separator: ",")] }
            for workers in [1, 2, 3, 5] {
                let out = scratch + "/\(family)-\(workers).npz"
                let r = try CLI.run(args + ["--output", out], environment: ["CKPT_THREADS": String(workers)])
                XCTAssertEqual(r.status, 0, "\(family) on \(workers): \(r.stderr)")
                guard r.status == 0 else { continue }
                let ours = try NPZReader(path: out)
                for name in first["outputs"] as! [String] {
                    let expected = try golden.withBytes(of: try golden.tensor(named: name)) {
                        Array($0.bindMemory(to: Float.self))
                    }
                    let got = try ours.withBytes(of: try ours.tensor(named: name)) {
                        Array($0.bindMemory(to: Float.self))
                    }
                    XCTAssertEqual(got.count, expected.count, "\(family) \(name) on \(workers)")
                    let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
                    XCTAssertLessThanOrEqual(worst, 1e-4, "\(family) \(name) on \(workers) workers")
                }
            }
        }
    }

    func testForwardWritesAnNPZ() throws {
        let out = scratch + "/out.npz"
        let r = try run(
            "forward", Fixtures.path("families/bert"), "--tokens", "2,5,9,3", "--heads", "pool,mlm", "--output", out)
        XCTAssertEqual(r.status, 0, r.stderr)
        let inspect = try run("inspect", "--json", out)
        let listing = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        let shapes = Dictionary(
            uniqueKeysWithValues: (listing["tensors"] as! [[String: Any]]).map {
                ($0["name"] as! String, $0["shape"] as! [Int])
            })
        // The ids the pass was fed are stored beside its outputs.
        XCTAssertEqual(shapes, ["hidden": [4, 16], "pooled": [16], "mlm_probs": [4, 64], "tokens": [4]])
    }

    /// `--text --text-pair`: the pair's ids and segments as bert4keras' `encode(first, second)`
    /// gives them, stored in the npz and fed to the pass.
    func testTextPairIdsAndSegmentsAreBert4kerasAndStored() throws {
        let json = try Fixtures.json(Fixtures.path("vocab/tokenize.json"))
        let pair = try XCTUnwrap(
            (json["cased_pairs"] as? [[String: Any]])?.first { ($0["ids"] as! [Int]).allSatisfy { $0 < 64 } })
        let out = scratch + "/pair.npz"
        let r = try run(
            "forward", Fixtures.path("families/bert"), "--text", pair["first"] as! String, "--text-pair",
            pair["second"] as! String, "--vocab", Fixtures.path("vocab/vocab.txt"), "--output", out)
        XCTAssertEqual(r.status, 0, r.stderr)
        let npz = try NPZReader(path: out)
        func ints(_ name: String) throws -> [Int] {
            try npz.withBytes(of: try npz.tensor(named: name)) { $0.bindMemory(to: Int64.self).map(Int.init) }
        }
        XCTAssertEqual(try ints("tokens"), pair["ids"] as? [Int])
        XCTAssertEqual(try ints("segments"), pair["segments"] as? [Int])
        XCTAssertEqual(
            try run("forward", Fixtures.path("families/bert"), "--tokens", "2,3", "--text-pair", "x").status, 2)
    }

    /// tf→native and tf→hf conversions verify; one altered weight makes verify fail.
    func testVerifyAcceptsConversionsAndCatchesAnAlteredTensor() throws {
        for (family, hf) in [
            ("bert", true), ("albert", true), ("nezha", true), ("roformer", true), ("electra", true), ("gpt", false),
            ("gpt2", true), ("gpt2_ml", false), ("t5.1.0", true), ("t5.1.1", true),
        ] {
            let src = Fixtures.path("families/\(family)")
            for layout in hf ? ["native", "hf"] : ["native"] {
                let out = scratch + "/\(family)-\(layout)"
                XCTAssertEqual(
                    try run("convert", src, "--to", out, "--layout", layout).status, 0, "\(family) \(layout)")
                let v = try run("verify", src, out)
                XCTAssertEqual(v.status, 0, "\(family) \(layout): \(v.stdout) \(v.stderr)")
            }
        }
        let out = scratch + "/bert-native"
        // Alter one float of the first tensor in the data region of the safetensors file.
        let path = out + "/model.safetensors"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        bytes[8 + headerLength + 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        let v = try run("verify", Fixtures.path("families/bert"), out)
        XCTAssertEqual(v.status, 1, v.stdout)
        XCTAssertTrue(v.stdout.contains("differs:"), v.stdout)
        let d = try run("diff", Fixtures.path("families/bert"), out)
        XCTAssertEqual(d.status, 1)
        XCTAssertTrue(d.stdout.contains("differs: bert/"), d.stdout)  // the TF file's own name first
        // A summary line: one tensor of the 46 TF lists differs.
        let tensors = try XCTUnwrap(
            try Fixtures.json(Fixtures.path("families/bert/golden.tf.json"))["variables"] as? [Any])
        XCTAssertTrue(
            d.stdout.hasSuffix("0 only in A, 0 only in B, 0 changed, 1 differing, \(tensors.count - 1) equal\n"),
            d.stdout)
        XCTAssertEqual(
            try run("diff", Fixtures.path("families/bert"), Fixtures.path("families/bert/model.weights.h5")).status, 0)
    }

    func testVerifyAfterCastUsesTheCastTolerance() throws {
        let out = scratch + "/bf16"
        XCTAssertEqual(try run("convert", Fixtures.path("families/bert"), "--to", out, "--dtype", "bfloat16").status, 0)
        let v = try run("verify", Fixtures.path("families/bert"), out)
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        XCTAssertTrue(v.stdout.contains("tolerance 0.01"), v.stdout)
    }
}

extension ForwardCLITests {
    /// `--text` gives the same outputs as the ids bert4keras' tokenizer makes of that text.
    func testTextIsTokenizedLikeBert4keras() throws {
        let json = try Fixtures.json(Fixtures.path("vocab/tokenize.json"))
        let first = try XCTUnwrap(
            (json["cased"] as? [[String: Any]])?.first { ($0["ids"] as! [Int]).allSatisfy { $0 < 64 } })
        // The fixture BERT has 64 tokens; a text whose ids all fit runs through it.
        let ids = (first["ids"] as! [Int]).map(String.init).joined(separator: ",")
        let a = try run(
            "forward", Fixtures.path("families/bert"), "--text", first["text"] as! String, "--vocab",
            Fixtures.path("vocab/vocab.txt"))
        let b = try run("forward", Fixtures.path("families/bert"), "--tokens", ids)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertEqual(try run("forward", Fixtures.path("families/bert"), "--text", "x", "--tokens", "2,3").status, 2)
    }
}

/// `ckpt prune` as a user runs it.
final class PruneCLITests: ScratchTestCase {
    func run(_ args: String...) throws -> CLI.Run { try CLI.run(args) }

    func testPruneWritesVocabConfigAndKeepTokens() throws {
        let dir = Fixtures.path("prune/bert")
        let out = scratch + "/out"
        let r = try run(
            "prune", Fixtures.path("families/bert"), "--to", out, "--vocab", dir + "/vocab.txt",
            "--keep-tokens", dir + "/keep.txt", "--compound-tokens", dir + "/compound.tsv")
        XCTAssertEqual(r.status, 0, r.stderr)
        let prune = try Fixtures.json(dir + "/prune.json")
        let vocab = try String(contentsOfFile: out + "/vocab.txt", encoding: .utf8).split(separator: "\n").map(
            String.init)
        XCTAssertEqual(vocab, prune["tokens"] as? [String])
        let config = try Fixtures.json(out + "/config.json")
        XCTAssertEqual(config["vocab_size"] as? Int, 43)
        let keep = try Fixtures.json(out + "/keep_tokens.json")
        XCTAssertEqual(keep["keep_tokens"] as? [Int], prune["keep_tokens"] as? [Int])
        // The pruned folder runs: ids of the new vocabulary, a compound one included.
        XCTAssertEqual(try run("forward", out, "--tokens", "2,40,41,3", "--heads", "mlm").status, 0)
    }

    func testPruneBadInputIsOneLineAndWritesNothing() throws {
        let dir = Fixtures.path("prune/bert")
        let out = scratch + "/out"
        let bad = scratch + "/bad.txt"
        for (content, expect) in [
            ("[CLS]\nnot-a-token\n", "not-a-token"), ("[CLS]\n[CLS]\n", "twice"), ("\n", "keeps no tokens"),
        ] {
            try Data(content.utf8).write(to: URL(fileURLWithPath: bad))
            let r = try run(
                "prune", Fixtures.path("families/bert"), "--to", out, "--vocab", dir + "/vocab.txt", "--keep-tokens",
                bad)
            XCTAssertEqual(r.status, 1, content)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(expect), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
        // A vocabulary whose size does not match the embedding rows.
        try Data("[PAD]\n[UNK]\n[CLS]\n".utf8).write(to: URL(fileURLWithPath: scratch + "/small.txt"))
        try Data("[CLS]\n".utf8).write(to: URL(fileURLWithPath: bad))
        let r = try run(
            "prune", Fixtures.path("families/bert"), "--to", out, "--vocab", scratch + "/small.txt", "--keep-tokens",
            bad)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("3 tokens"), r.stderr)
        // Compound tokens naming unknown tokens.
        try Data("[CLS]\n".utf8).write(to: URL(fileURLWithPath: bad))
        try Data("new\tnope\n".utf8).write(to: URL(fileURLWithPath: scratch + "/c.tsv"))
        let c = try run(
            "prune", Fixtures.path("families/bert"), "--to", out, "--vocab", dir + "/vocab.txt", "--keep-tokens", bad,
            "--compound-tokens", scratch + "/c.tsv")
        XCTAssertEqual(c.status, 1)
        XCTAssertTrue(c.stderr.contains("nope"), c.stderr)
        // [UNK] not kept is a warning, not an error.
        let w = try run(
            "prune", Fixtures.path("families/bert"), "--to", out, "--vocab", dir + "/vocab.txt", "--keep-tokens", bad)
        XCTAssertEqual(w.status, 0, w.stderr)
        XCTAssertTrue(w.stderr.contains("warning: [UNK] is not kept"), w.stderr)
        XCTAssertEqual(
            try run("prune", Fixtures.path("families/bert"), "--to", out, "--vocab", dir + "/vocab.txt").status, 2)
    }
}

extension PruneCLITests {
    /// T5 with its SentencePiece model: the model is pruned too, reserved pieces first.
    func testPruneT5WithSentencePiece() throws {
        let out = scratch + "/t5"
        let r = try run(
            "prune", Fixtures.path("families/t5.1.1"), "--to", out, "--vocab", Fixtures.path("spm/spiece.model"),
            "--keep-tokens", Fixtures.path("spm/keep.txt"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/spiece.model"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/vocab.txt"))
        let keep = try Fixtures.json(out + "/keep_tokens.json")["keep_tokens"] as! [Int]
        XCTAssertEqual(Array(keep.prefix(3)), [0, 1, 2])  // <pad> </s> <unk>
        XCTAssertEqual(try run("forward", out, "--tokens", "5,6,7", "--decoder-tokens", "0,4").status, 0)
        XCTAssertEqual(
            try run(
                "prune", Fixtures.path("families/t5.1.1"), "--to", scratch + "/t5b", "--vocab",
                Fixtures.path("spm/spiece.model"), "--simplified"
            ).status, 1)
    }
}

extension PruneCLITests {
    /// `prune --layout keras` and `--layout tf` hold exactly the tensors of `--layout native`
    /// (whose values the prune tests check against bert4keras' keep_tokens), in the Keras layer
    /// order and with the pruned vocabulary beside them.
    func testPruneIntoKerasAndTFEqualsNative() throws {
        for family in ["bert", "albert", "nezha", "roformer", "electra", "gpt2_ml"] {
            let dir = Fixtures.path("prune/\(family)")
            guard FileManager.default.fileExists(atPath: dir + "/keep.txt") else { continue }
            var outs: [String: String] = [:]
            for layout in ["native", "keras", "tf"] {
                let out = scratch + "/\(family)-\(layout)"
                let r = try run(
                    "prune", Fixtures.path("families/\(family)"), "--to", out, "--vocab", dir + "/vocab.txt",
                    "--keep-tokens", dir + "/keep.txt", "--layout", layout)
                XCTAssertEqual(r.status, 0, "\(family) \(layout): \(r.stderr)")
                XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/vocab.txt"), "\(family) \(layout)")
                outs[layout] = out
            }
            XCTAssertTrue(FileManager.default.fileExists(atPath: outs["keras"]! + "/model.h5"))
            for layout in ["keras", "tf"] {
                let back = scratch + "/\(family)-\(layout)-native"
                let r = try run("convert", outs[layout]!, "--to", back, "--model", family)
                XCTAssertEqual(r.status, 0, "\(family) \(layout): \(r.stderr)")
                let d = try run("diff", outs["native"]!, back, "--model", family)
                XCTAssertEqual(d.status, 0, "\(family) \(layout): \(d.stdout)\(d.stderr)")
            }
        }
    }
}
