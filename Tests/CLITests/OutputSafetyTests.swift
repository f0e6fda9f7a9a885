import CkptCore
import CkptTestSupport
import Foundation
import XCTest

/// Outputs never touch inputs, `--force` replaces only what ckpt wrote, and a checkpoint whose
/// shapes or config lie ends in one line — checked through the real CLI, with the source
/// folder's every byte compared before and after.
final class OutputSafetyTests: ScratchTestCase {
    struct Outcome {
        let reason: Process.TerminationReason
        let status: Int32
        let stderr: String
        let seconds: Double
    }

    /// Runs ckpt in `cwd`; a run past 20 s is killed (and fails the 5 s check).
    func ckpt(_ args: [String], cwd: String? = nil) throws -> Outcome {
        let p = Process()
        p.executableURL = Bundle.main.bundleURL.appendingPathComponent("ckpt")
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        let start = Date()
        try p.run()
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 20, execute: killer)
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        return Outcome(
            reason: p.terminationReason, status: p.terminationStatus, stderr: String(decoding: e, as: UTF8.self),
            seconds: Date().timeIntervalSince(start))
    }

    /// Exit `status`, one stderr line, under 5 s.
    func assertRefused(
        _ o: Outcome, status: Int32, _ what: String, mentions: String? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(o.reason, .exit, "\(what): killed", file: file, line: line)
        XCTAssertEqual(o.status, status, "\(what): \(o.stderr)", file: file, line: line)
        XCTAssertEqual(
            o.stderr.split(separator: "\n", omittingEmptySubsequences: false).count, 2, "\(what): \(o.stderr)",
            file: file, line: line)
        XCTAssertTrue(o.stderr.hasPrefix("ckpt: error: "), "\(what): \(o.stderr)", file: file, line: line)
        XCTAssertFalse(
            o.stderr.contains("ckpt-tmp"), "\(what): the temporary path leaked: \(o.stderr)", file: file, line: line)
        if let mentions { XCTAssertTrue(o.stderr.contains(mentions), "\(what): \(o.stderr)", file: file, line: line) }
        XCTAssertLessThan(o.seconds, 5, what, file: file, line: line)
    }

    /// Every file below `folder` with the CRC32 of its bytes.
    func checksums(_ folder: String) throws -> [String: UInt32] {
        var out: [String: UInt32] = [:]
        let e = FileManager.default.enumerator(atPath: folder)!
        while let p = e.nextObject() as? String {
            let full = folder + "/" + p
            guard !FileSystem.isDirectory(full) else { continue }
            out[p] = try MappedFile.contents(of: full).withUnsafeBytes { Checksum.crc32($0) }
        }
        return out
    }

    /// A user's checkpoint folder: the bert fixture, its vocabulary and a file of the user's own.
    func userFolder(_ family: String = "bert") throws -> String {
        let src = scratch + "/user/\(family)"
        try FileManager.default.createDirectory(atPath: scratch + "/user", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path("families/\(family)"), toPath: src)
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (5..<64).map { "t\($0)" }
        try Data(vocab.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: src + "/vocab.txt"))
        try Data("my notes".utf8).write(to: URL(fileURLWithPath: src + "/notes.txt"))
        return src
    }

    func testOutputsThatWouldTouchTheSourceAreRefused() throws {
        let src = try userFolder()
        let before = try checksums(scratch + "/user")
        let data = src + "/model.ckpt.data-00000-of-00001"
        try FileManager.default.createSymbolicLink(atPath: scratch + "/link", withDestinationPath: src)
        let cases: [(String, [String], String?)] = [
            ("--to the source folder", ["convert", src, "--to", src, "--force"], nil),
            ("--to the source folder, tf", ["convert", src, "--to", src, "--force", "--layout", "tf"], nil),
            ("--to the source's parent", ["convert", src, "--to", scratch + "/user", "--force"], nil),
            ("--to . in the source folder", ["convert", ".", "--to", ".", "--force"], src),
            ("--to . from a prefix", ["convert", "model.ckpt", "--to", ".", "--force"], src),
            ("--to the prefix's folder", ["convert", src + "/model.ckpt", "--to", src, "--force"], nil),
            ("--to inside the source folder", ["convert", src, "--to", src + "/out"], nil),
            ("--to a link to the source", ["convert", src, "--to", scratch + "/link", "--force"], nil),
            ("--to /", ["convert", src, "--to", "/", "--force"], nil),
            (
                "prune --to the source",
                ["prune", src, "--to", src, "--vocab", src + "/vocab.txt", "--simplified", "--force"], nil
            ),
            (
                "prune --to the vocabulary's folder",
                [
                    "prune", Fixtures.path("families/bert"), "--to", src, "--vocab", src + "/vocab.txt",
                    "--simplified", "--force",
                ], nil
            ),
            ("forward --output the data shard", ["forward", src, "--tokens", "1,2,3", "--output", data], nil),
            (
                "forward --output the data shard, forced",
                ["forward", src, "--tokens", "1,2,3", "--output", data, "--force"], nil
            ),
            (
                "forward --output the index through a link",
                [
                    "forward", src, "--tokens", "1,2,3", "--output",
                    scratch + "/link/model.ckpt.index", "--force",
                ], nil
            ),
            (
                "forward --output the config",
                [
                    "forward", src + "/model.ckpt", "--tokens", "1,2,3", "--output", src + "/config.json",
                    "--force",
                ], nil
            ),
            (
                "forward --output the vocabulary",
                ["forward", src, "--text", "a", "--output", src + "/vocab.txt", "--force"], nil
            ),
        ]
        for (what, args, cwd) in cases {
            let o = try ckpt(args, cwd: cwd)
            assertRefused(o, status: 2, what)
            XCTAssertEqual(try checksums(scratch + "/user"), before, "\(what) changed the source folder")
        }
    }

    /// A folder ckpt wrote is replaceable with --force, but not while it is the source: the marker
    /// would allow it, the input check must not. (Checked to fail: without OutputSafety.check the
    /// conversion deletes its own source and exits 0.)
    func testCkptsOwnOutputAsSourceIsNotReplaced() throws {
        let out = scratch + "/converted"
        XCTAssertEqual(try ckpt(["convert", Fixtures.path("families/bert"), "--to", out]).status, 0)
        let before = try checksums(out)
        for args in [
            ["convert", out, "--to", out, "--force"], ["convert", out + "/model.safetensors", "--to", out, "--force"],
            ["convert", out, "--to", out, "--force", "--layout", "tf"], ["convert", out, "--to", ".", "--force"],
        ] {
            assertRefused(try ckpt(args, cwd: out), status: 2, args.joined(separator: " "))
            XCTAssertEqual(try checksums(out), before)
        }
    }

    func testForceReplacesOnlyWhatCkptWrote() throws {
        let src = Fixtures.path("families/bert")
        let out = scratch + "/out"
        XCTAssertEqual(try ckpt(["convert", src, "--to", out]).status, 0)
        // ckpt's own output is replaced, in any layout.
        for layout in ["tf", "keras", "native"] {
            let o = try ckpt(["convert", src, "--to", out, "--force", "--layout", layout])
            XCTAssertEqual(o.status, 0, "\(layout): \(o.stderr)")
        }
        // Without --force an existing folder is refused (usage).
        assertRefused(try ckpt(["convert", src, "--to", out]), status: 2, "no --force", mentions: "--force")
        // A file of the user's in it: refused by name, and kept.
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        let before = try checksums(out)
        assertRefused(
            try ckpt(["convert", src, "--to", out, "--force"]), status: 2, "user file", mentions: "notes.txt")
        XCTAssertEqual(try checksums(out), before)
        // A folder ckpt never wrote (no marker), even with ckpt's own file names: refused.
        let theirs = scratch + "/theirs"
        try FileManager.default.createDirectory(atPath: theirs, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: theirs + "/config.json"))
        assertRefused(
            try ckpt(["convert", src, "--to", theirs, "--force"]), status: 2, "no marker", mentions: "config.json")
        XCTAssertEqual(try String(contentsOfFile: theirs + "/config.json", encoding: .utf8), "{}")
        // A marker naming a folder does not make the folder ckpt's.
        let forged = scratch + "/forged"
        XCTAssertEqual(try ckpt(["convert", src, "--to", forged]).status, 0)
        try FileManager.default.removeItem(atPath: forged + "/model.safetensors")
        try FileManager.default.createDirectory(
            atPath: forged + "/model.safetensors", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: forged + "/model.safetensors/keep"))
        assertRefused(try ckpt(["convert", src, "--to", forged, "--force"]), status: 2, "folder under a listed name")
        XCTAssertTrue(FileManager.default.fileExists(atPath: forged + "/model.safetensors/keep"))
    }

    func testForwardReplacesOnlyItsOwnNPZ() throws {
        let src = Fixtures.path("families/bert")
        let out = scratch + "/out.npz"
        XCTAssertEqual(try ckpt(["forward", src, "--tokens", "1,2,3", "--output", out]).status, 0)
        assertRefused(
            try ckpt(["forward", src, "--tokens", "1,2,3", "--output", out]), status: 2, "exists", mentions: "--force")
        XCTAssertEqual(try ckpt(["forward", src, "--tokens", "1,2,3", "--output", out, "--force"]).status, 0)
        let other = scratch + "/numbers.npz"
        try FileManager.default.copyItem(atPath: Fixtures.path("special/npz/model.npz"), toPath: other)
        let before = try checksums(scratch)
        assertRefused(
            try ckpt(["forward", src, "--tokens", "1,2,3", "--output", other, "--force"]), status: 2, "not ckpt's npz")
        XCTAssertEqual(try checksums(scratch), before)
    }

    /// One narrowed kernel and a few lying configs per family: forward, verify and a keras/tf/hf
    /// conversion end with exit 1 and one line in under 5 s; nothing is written.
    func testLyingCheckpointsEndInOneLine() throws {
        for family in Fixtures.families {
            let good = scratch + "/\(family)-native"
            XCTAssertEqual(try ckpt(["convert", Fixtures.path("families/\(family)"), "--to", good]).status, 0, family)
            let stack = family.hasPrefix("gpt") ? "decoder" : "encoder"
            let bad = try narrowed(good, "\(stack).layers.0.attention.key.weight", as: "\(family)-narrow")
            var lies = [bad]
            for (k, edit) in [
                "\"num_attention_heads\": 0", "\"num_attention_heads\": -2", "\"num_attention_heads\": 3",
            ].enumerated() {
                lies.append(
                    try withConfig(
                        good, as: "\(family)-config-\(k)", replacing: "\"num_attention_heads\" : 2", by: edit))
            }
            for lie in lies {
                let tokens =
                    family.hasPrefix("t5") ? ["--tokens", "1,2,3", "--decoder-tokens", "1,2"] : ["--tokens", "1,2,3"]
                assertRefused(try ckpt(["forward", lie] + tokens), status: 1, "\(family) forward \(lie)")
                assertRefused(
                    try ckpt(["verify", Fixtures.path("families/\(family)"), lie]), status: 1, "\(family) verify \(lie)"
                )
                for layout in ["keras", "tf"] {
                    let out = scratch + "/\(family)-written"
                    assertRefused(
                        try ckpt(["convert", lie, "--to", out, "--layout", layout, "--model", family]), status: 1,
                        "\(family) convert --layout \(layout) \(lie)")
                    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
                }
            }
            // Lies that still fit the tensors: the converted config builds another model.
            for (k, edit) in verifyOnlyLies(family).enumerated() {
                let lie = try editedConfig(good, as: "\(family)-verify-\(k)", edit)
                let o = try ckpt(["verify", Fixtures.path("families/\(family)"), lie])
                assertRefused(o, status: 1, "\(family) verify with a lying config \(k)")
            }
        }
    }

    /// Config edits that the tensors cannot contradict: twice the heads (when they divide the
    /// widths), another activation, a JSON list instead of an object.
    func verifyOnlyLies(_ family: String) -> [(inout Any) -> Void] {
        var lies: [(inout Any) -> Void] = [
            { c in
                var d = c as! [String: Any]; d["hidden_act"] = "tanh"; c = d
            },
            { c in c = [c] },
        ]
        if !family.hasPrefix("t5") {
            lies.append { c in
                var d = c as! [String: Any]; d["num_attention_heads"] = 4; c = d
            }
        }
        return lies
    }

    func editedConfig(_ folder: String, as label: String, _ edit: (inout Any) -> Void) throws -> String {
        let out = scratch + "/" + label
        try FileManager.default.copyItem(atPath: folder, toPath: out)
        var config = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: out + "/config.json")))
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: out + "/config.json"))
        return out
    }

    func testSmallThings() throws {
        let src = Fixtures.path("families/bert")
        // diff: differences are stdout and the exit status, no empty line on stderr.
        XCTAssertEqual(try ckpt(["convert", src, "--to", scratch + "/half", "--dtype", "float16"]).status, 0)
        let d = try ckpt(["diff", src, scratch + "/half"])
        XCTAssertEqual(d.reason, .exit)
        XCTAssertTrue(d.status == 1, d.stderr)
        XCTAssertEqual(d.stderr, "")
        // keras writes float32: a float16 request is refused before anything starts.
        let k = try ckpt(["convert", src, "--to", scratch + "/k", "--layout", "keras", "--dtype", "float16"])
        XCTAssertEqual(k.status, 2, k.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/k"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), ["half"])
        // An unknown family is bad usage, for every command that takes --model.
        for args in [
            ["convert", src, "--to", scratch + "/x"], ["forward", src, "--tokens", "1"], ["verify", src, src],
            ["diff", src, src], ["prune", src, "--to", scratch + "/p", "--vocab", "v.txt", "--simplified"],
        ] {
            assertRefused(try ckpt(args + ["--model", "bart"]), status: 2, args[0], mentions: "bart")
        }
    }

    /// `-q`: nothing on stderr but errors, on every command.
    func testQuietPrintsNothingButErrors() throws {
        let src = Fixtures.path("families/bert")
        let loud = try ckpt(["convert", src, "--to", scratch + "/loud"])
        XCTAssertFalse(loud.stderr.isEmpty)
        for args in [
            ["convert", src, "--to", scratch + "/q1", "-q"],
            ["convert", src, "--to", scratch + "/q2", "--quiet", "--layout", "tf"],
            ["forward", src, "--tokens", "2,5,3", "--output", scratch + "/q.npz", "-q"],
            ["inspect", src, "--filter", "nothing-like-this", "-q"], ["verify", src, scratch + "/loud", "-q"],
            ["diff", src, scratch + "/loud", "-q"],
            ["tokenize", Fixtures.path("vocab/vocab.txt"), "--text", "a", "-q"],
        ] {
            let o = try ckpt(args)
            XCTAssertEqual(o.status, 0, "\(args): \(o.stderr)")
            XCTAssertEqual(o.stderr, "", "\(args)")
        }
        // Errors still show.
        assertRefused(try ckpt(["convert", src, "--to", scratch + "/q1", "-q"]), status: 2, "quiet error")
    }

    /// Every command's `--json` is one JSON object with `schema_version` 1 (docs/cli.md lists the fields).
    /// Every command's `--json` against its JSON Schema in docs/schemas (schema_version 1 and
    /// the documented fields, nothing else); the validator itself is checked to catch a
    /// missing, a wrongly typed and an undocumented field.
    func testEveryJSONMatchesItsSchema() throws {
        let src = Fixtures.path("families/bert")
        let prune = Fixtures.path("prune/bert")
        let hub = Fixtures.path("hub/bert_mlm/pytorch_model.bin")
        XCTAssertEqual(try ckpt(["convert", src, "--to", scratch + "/n"]).status, 0)
        XCTAssertEqual(try ckpt(["convert", src, "--to", scratch + "/h", "--dtype", "float16"]).status, 0)
        let commands: [(String, [String])] = [
            ("inspect", ["inspect", src, "--json"]), ("inspect", ["inspect", src, "--json", "--all", "--stats"]),
            ("inspect", ["inspect", hub, "--json", "--all"]),
            ("inspect", ["inspect", Fixtures.path("gguf/t5/reference.q8_0.gguf"), "--json", "--all", "--stats"]),
            (
                "convert",
                ["convert", Fixtures.path("gguf/gpt2/tf"), "--to", scratch + "/g", "--layout", "gguf", "--json"]
            ),
            ("inspect-tensor", ["inspect", src, "--tensor", "bert/pooler/dense/bias", "--json"]),
            ("convert", ["convert", src, "--to", scratch + "/j", "--json"]),
            (
                "convert",
                ["convert", Fixtures.path("hub/bert_seqcls"), "--to", scratch + "/k", "--layout", "tf", "--json"]
            ),
            (
                "prune",
                [
                    "prune", src, "--to", scratch + "/p", "--vocab", prune + "/vocab.txt", "--keep-tokens",
                    prune + "/keep.txt", "--json",
                ]
            ),
            ("forward", ["forward", src, "--tokens", "2,5,3", "--json"]),
            (
                "forward",
                ["forward", Fixtures.path("families/t5.1.0"), "--tokens", "2,5", "--decoder-tokens", "0,4", "--json"]
            ),
            ("verify", ["verify", src, scratch + "/n", "--json"]), ("diff", ["diff", src, scratch + "/n", "--json"]),
            ("diff", ["diff", src, scratch + "/h", "--json"]),
            ("tokenize", ["tokenize", Fixtures.path("vocab/vocab.txt"), "--text", "a b", "--pair", "c", "--json"]),
        ]
        for (name, args) in commands {
            let schema = try Fixtures.json(Fixtures.root + "/../docs/schemas/\(name).schema.json")
            let r = try CLI.run(args)
            XCTAssertTrue(r.status == 0 || name == "diff", "\(args): \(r.stderr)")
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(args)")
            XCTAssertEqual(JSONSchema.problems(o, against: schema), [], "\(args)")
        }
        let schema = try Fixtures.json(Fixtures.root + "/../docs/schemas/tokenize.schema.json")
        let bad: [String: Any] = ["schema_version": 1, "tokens": ["a"], "ids": ["1"], "extra": true]
        XCTAssertEqual(JSONSchema.problems(bad, against: schema).count, 3)  // segments, ids[0], extra
    }

    func narrowed(_ folder: String, _ name: String, as label: String) throws -> String {
        let reader = try SafetensorsFile(folder + "/model.safetensors")
        let out = scratch + "/" + label
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder + "/config.json", toPath: out + "/config.json")
        try reader.rewritten(name, narrowedBy: 1).write(to: URL(fileURLWithPath: out + "/model.safetensors"))
        return out
    }

    func withConfig(_ folder: String, as label: String, replacing old: String, by new: String) throws -> String {
        let out = scratch + "/" + label
        try FileManager.default.copyItem(atPath: folder, toPath: out)
        let text = try String(contentsOfFile: out + "/config.json", encoding: .utf8)
        XCTAssertTrue(text.contains(old), text)
        try text.replacingOccurrences(of: old, with: new).write(
            toFile: out + "/config.json", atomically: false, encoding: .utf8)
        return out
    }
}

/// A safetensors file read with Foundation's JSON (not ckpt's reader), to write a copy in which
/// one tensor is narrowed by one column (its data cut to fit): the header is rebuilt, offsets too.
struct SafetensorsFile {
    let header: [String: Any]
    let data: Data

    init(_ path: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
        data = bytes.subdata(in: (8 + n)..<bytes.count)
    }

    func rewritten(_ name: String, narrowedBy cut: Int) throws -> Data {
        var out: [String: Any] = [:]
        if let m = header["__metadata__"] { out["__metadata__"] = m }
        var blob = Data()
        let names = header.keys.filter { $0 != "__metadata__" }.sorted { offsets($0).0 < offsets($1).0 }
        for key in names {
            var entry = header[key] as! [String: Any]
            var shape = entry["shape"] as! [Int]
            let (start, end) = offsets(key)
            var bytes = data.subdata(in: start..<end)
            if key == name {
                let rows = bytes.count / 4 / shape.last!
                shape[shape.count - 1] -= cut
                bytes = bytes.prefix(rows * shape.last! * 4)
            }
            entry["shape"] = shape
            entry["data_offsets"] = [blob.count, blob.count + bytes.count]
            out[key] = entry
            blob += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: out)
        while json.count % 8 != 0 { json.append(0x20) }
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) } + json + blob
    }

    /// The same file with one tensor under another name.
    func renamed(_ name: String, to new: String) throws -> Data {
        var out = header
        out[new] = out.removeValue(forKey: name)
        var json = try JSONSerialization.data(withJSONObject: out)
        while json.count % 8 != 0 { json.append(0x20) }
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) } + json + data
    }

    func offsets(_ key: String) -> (Int, Int) {
        let o = (header[key] as! [String: Any])["data_offsets"] as! [Int]
        return (o[0], o[1])
    }
}
