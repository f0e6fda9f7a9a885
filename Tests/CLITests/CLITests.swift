import Foundation
import CkptTestSupport
import XCTest

/// Runs the built `ckpt` binary as a user would and checks its output against the goldens
/// TensorFlow wrote (Fixtures/generate.py), and its exit statuses.
final class CLITests: XCTestCase {
    static let fixtures = Fixtures.root

    func ckpt(_ args: String...) throws -> CLI.Run { try CLI.run(args) }

    func json(_ s: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
    }

    /// `inspect --json` of every fixture checkpoint lists exactly what tf.train.list_variables
    /// listed (names, shapes; dtypes from TF's reader); bookkeeping only with --all.
    func testInspectListsExactlyTensorFlowsVariables() throws {
        let goldens = Fixtures.goldens(named: "golden.tf.json")
        XCTAssertGreaterThanOrEqual(goldens.count, 15)
        for g in goldens {
            let golden = try json(String(contentsOfFile: g, encoding: .utf8))
            let vars = golden["variables"] as! [[String: Any]]
            let dir = (g as NSString).deletingLastPathComponent
            for all in [false, true] {
                let r = all ? try ckpt("inspect", "--json", "--all", dir) : try ckpt("inspect", "--json", dir)
                XCTAssertEqual(r.status, 0, r.stderr)
                let tensors = try json(r.stdout)["tensors"] as! [[String: Any]]
                let expected = vars.filter { all || !($0["name"] as! String).hasPrefix("_CHECKPOINTABLE_") }
                XCTAssertEqual(tensors.map { $0["name"] as! String }, expected.map { $0["name"] as! String }, g)
                XCTAssertEqual(tensors.map { $0["shape"] as! [Int] }, expected.map { $0["shape"] as! [Int] }, g)
                XCTAssertEqual(tensors.map { $0["dtype"] as! String }, expected.map { $0["dtype"] as! String }, g)
            }
        }
    }

    /// --stats: NumPy's sum of each tensor (golden) equals ckpt's mean × count.
    func testStatsAgreeWithNumPysSums() throws {
        let golden = try json(String(contentsOfFile: Self.fixtures + "/families/bert/golden.tf.json", encoding: .utf8))
        let sums = Dictionary(
            uniqueKeysWithValues: (golden["variables"] as! [[String: Any]]).map {
                ($0["name"] as! String, ($0["sum"] as! NSNumber).doubleValue)
            })
        let r = try ckpt("inspect", "--json", "--stats", Self.fixtures + "/families/bert")
        XCTAssertEqual(r.status, 0, r.stderr)
        for t in try json(r.stdout)["tensors"] as! [[String: Any]] {
            let stats = t["stats"] as! [String: Any]
            let count = (t["shape"] as! [Int]).reduce(1, *)
            let mean = (stats["mean"] as! NSNumber).doubleValue
            XCTAssertEqual(mean * Double(count), sums[t["name"] as! String]!, accuracy: 1e-4, t["name"] as! String)
            XCTAssertLessThanOrEqual((stats["min"] as! NSNumber).doubleValue, mean)
            XCTAssertEqual(stats["nan_count"] as? Int, 0)
        }
    }

    func testTableShowsFormatArchitectureAndTotals() throws {
        let r = try ckpt("inspect", Self.fixtures + "/families/bert/model.weights.h5")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("format: keras_h5"))
        XCTAssertTrue(r.stdout.contains("architecture: bert"))
        XCTAssertTrue(r.stdout.contains("Embedding-Token/embeddings:0"))
        // Columns line up: the last column is right-aligned, so every row of the table is as
        // long as its header, and none ends in spaces.
        for args in [[String](), ["--stats"]] {
            let t = try CLI.run(["inspect"] + args + [Self.fixtures + "/families/bert"])
            let lines = t.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("NAME ") })
            let rows = lines[start...].prefix { !$0.isEmpty }
            XCTAssertGreaterThan(rows.count, 10)
            XCTAssertTrue(
                rows.allSatisfy { $0.count == lines[start].count && !$0.hasSuffix(" ") }, rows.joined(separator: "\n"))
        }
        let f = try ckpt("inspect", "--json", "--filter", "*LayerNorm*", Self.fixtures + "/families/bert")
        let names = (try json(f.stdout)["tensors"] as! [[String: Any]]).map { $0["name"] as! String }
        XCTAssertFalse(names.isEmpty)
        XCTAssertTrue(names.allSatisfy { $0.contains("LayerNorm") })
        // Without * or ?, a substring.
        let s = try ckpt("inspect", "--json", "--filter", "LayerNorm", Self.fixtures + "/families/bert")
        XCTAssertEqual((try json(s.stdout)["tensors"] as! [[String: Any]]).map { $0["name"] as! String }, names)
        // Nothing matched: said on stderr, with the closest names.
        let none = try ckpt("inspect", "--filter", "layernrm", Self.fixtures + "/families/bert")
        XCTAssertEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("no tensor matches 'layernrm'"), none.stderr)
        XCTAssertTrue(none.stderr.contains("LayerNorm"), none.stderr)
    }

    /// Adam slots and step counters are listed but not counted as the model's parameters: the
    /// checkpoint with them has the parameters of the same BERT without them (TF's listings).
    func testOptimizerStateIsNotCountedAsParameters() throws {
        func elements(_ golden: String) throws -> Int {
            let vars = try XCTUnwrap(try Fixtures.json(Fixtures.path(golden))["variables"] as? [[String: Any]])
            return vars.reduce(0) { $0 + ($1["shape"] as! [Int]).reduce(1, *) }
        }
        let bert = try elements("families/bert/golden.tf.json"), all = try elements("special/optimizer/golden.tf.json")
        let r = try ckpt("inspect", "--json", Fixtures.path("special/optimizer"))
        let report = try json(r.stdout)
        XCTAssertEqual(report["model_parameters"] as? Int, bert)
        XCTAssertEqual(report["optimizer_parameters"] as? Int, all - bert)
        XCTAssertEqual(report["total_parameters"] as? Int, all)
    }

    func testBadInputExitsOneWithOneLineNamingTheFile() throws {
        let missing = "/nonexistent/model.ckpt"
        let r = try ckpt("inspect", missing)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(missing), r.stderr)

        let dir = NSTemporaryDirectory() + "ckpt-cli-" + UUID().uuidString
        try FileManager.default.copyItem(atPath: Self.fixtures + "/families/bert", toPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let index = dir + "/model.ckpt.index"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: index))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: index))
        let t = try ckpt("inspect", dir)
        XCTAssertEqual(t.status, 1)
        XCTAssertEqual(t.stderr.split(separator: "\n").count, 1, t.stderr)
        XCTAssertTrue(t.stderr.contains(index), t.stderr)
        XCTAssertFalse(t.stderr.contains("Fatal error"), t.stderr)
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try ckpt("inspect").status, 2)
        XCTAssertEqual(try ckpt("inspect", "--no-such-flag", "x").status, 2)
        XCTAssertEqual(try ckpt("no-such-command").status, 2)
        XCTAssertEqual(try ckpt("--help").status, 0)
    }

    /// Shell completion offers the families for --model and files for paths; --version names the tool.
    func testCompletionAndVersion() throws {
        let bash = try ckpt("--generate-completion-script", "bash")
        XCTAssertEqual(bash.status, 0)
        for family in ["bert", "albert_unshared", "t5.1.1", "gpt2_ml"] {
            XCTAssertTrue(bash.stdout.contains(family), family)
        }
        XCTAssertTrue(bash.stdout.contains("-fX '!*.@(json)'"), "json completion for --config/--mapping")
        let zsh = try ckpt("--generate-completion-script", "zsh")
        XCTAssertTrue(zsh.stdout.contains(":_files"), "file completion for paths")
        // The release, the commit it was built from (as git says it), the OpenBLAS and libhdf5 in use.
        let lines = try ckpt("--version").stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, "\(lines)")
        XCTAssertTrue(lines[0].hasPrefix("ckpt 0.3.0 (commit "), lines[0])
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", Fixtures.root, "rev-parse", "--short=10", "HEAD"]
        let pipe = Pipe()
        git.standardOutput = pipe
        git.standardError = FileHandle.nullDevice
        if (try? git.run()) != nil {
            git.waitUntilExit()
            let head = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if git.terminationStatus == 0 { XCTAssertEqual(lines[0], "ckpt 0.3.0 (commit \(head.dropLast()))") }
        }
        XCTAssertTrue(lines[1].hasPrefix("OpenBLAS: OpenBLAS 0."), lines[1])
        XCTAssertNotNil(lines[2].range(of: #"^libhdf5: 1\.\d+\.\d+$"#, options: .regularExpression), lines[2])
        XCTAssertEqual(try ckpt("inspect", "--version").stdout, "ckpt 0.3.0\n")
    }
}

/// `ckpt convert` as a user runs it.
final class ConvertCLITests: ScratchTestCase {

    func ckpt(_ args: String...) throws -> CLI.Run { try CLI.run(args) }

    func testConvertWritesAndReportsAsJSON() throws {
        let r = try ckpt("convert", Fixtures.path("families/bert"), "--to", scratch + "/out", "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["family"] as? String, "bert")
        XCTAssertEqual(report["tensors_written"] as? Int, 46)
        XCTAssertEqual(Set(report["files"] as! [String]), ["model.safetensors", "config.json"])
        XCTAssertTrue(r.stderr.contains("wrote 46 tensors"), r.stderr)
        let inspect = try CLI.run(["inspect", "--json", scratch + "/out"])
        let listing = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(listing["architecture"] as? String, "bert")
    }

    func testConvertErrorsAreOneLineAndLeaveNothing() throws {
        let out = scratch + "/out"
        // An unknown family is bad usage (2); a family whose names the checkpoint lacks, bad input (1).
        for (args, status) in [(["--model", "bart"], Int32(2)), (["--model", "t5.1.1"], 1)] {
            let r = try CLI.run(["convert", Fixtures.path("families/bert"), "--to", out] + args)
            XCTAssertEqual(r.status, status, args.joined(separator: " "))
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [])
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try ckpt("convert", Fixtures.path("families/bert")).status, 2)
        XCTAssertEqual(
            try ckpt("convert", Fixtures.path("families/bert"), "--to", scratch + "/o", "--max-shard-size", "lots")
                .status, 2)
        XCTAssertEqual(
            try ckpt("convert", Fixtures.path("families/bert"), "--to", scratch + "/o", "--layout", "pytorch").status, 2
        )
        XCTAssertEqual(
            try ckpt("convert", Fixtures.path("families/bert"), "--to", scratch + "/o", "--dtype", "int8").status, 2)
    }

    /// A user's own table (`--mapping`) maps a checkpoint no built-in family knows.
    func testUserMappingTable() throws {
        let table = """
            {"family": "tiny", "description": "a user's model", "detect": {"tf": {"require": ["head/kernel"]}},
             "rules": [{"native": "embeddings.token.weight", "tf": "embeddings/word_embeddings", "vocab_axis": 0},
                       {"native": "layers.{i}.weight", "tf": "encoder/layer_{i}/kernel"},
                       {"native": "layers.0.bias", "tf": "encoder/layer_0/bias"},
                       {"native": "head.weight", "tf": "head/kernel"}, {"native": "head.step", "tf": "head/step"}]}
            """
        try Data(table.utf8).write(to: URL(fileURLWithPath: scratch + "/tiny.json"))
        let r = try ckpt(
            "convert", Fixtures.path("special/sharded"), "--to", scratch + "/out", "--mapping", scratch + "/tiny.json",
            "--json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["family"] as? String, "tiny")
        XCTAssertEqual(report["tensors_written"] as? Int, 6)
        // The partitioned variable is reassembled from its three slices on its way out.
        let out = try ConvertedFolder.names(scratch + "/out")
        XCTAssertEqual(
            out,
            [
                "embeddings.token.weight", "head.step", "head.weight", "layers.0.bias", "layers.0.weight",
                "layers.1.weight",
            ])
    }
}

/// Tensor names of a converted folder, through `ckpt inspect --json`.
enum ConvertedFolder {
    static func names(_ folder: String) throws -> [String] {
        let r = try CLI.run(["inspect", "--json", folder])
        let listing = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return (listing["tensors"] as! [[String: Any]]).map { $0["name"] as! String }
    }
}

/// Runs the built `ckpt` binary and collects its exit status and output.
enum CLI {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ args: [String], environment: [String: String] = [:]) throws -> Run {
        let p = Process()
        p.executableURL = Bundle.main.bundleURL.appendingPathComponent("ckpt")
        p.arguments = args
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(
            status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self))
    }
}

/// Hostile HDF5 files that make libhdf5 1.10 itself crash (found by random mutation of the bert
/// Keras fixture): ckpt must still end with exit 1 and one line, never a signal.
final class HDF5CrashGuardTests: ScratchTestCase {
    static let mutations: [[(Int, UInt8)]] = [
        [
            (1174, 17), (4087, 189), (6334, 34), (7105, 52), (8672, 28), (15068, 112), (17003, 149), (28605, 1),
            (34899, 151),
            (41626, 57), (43609, 9), (55435, 10), (56299, 5), (57248, 190), (57277, 175), (61467, 102), (65262, 87),
            (70509, 173),
            (73273, 108), (76245, 128), (76495, 149), (78239, 83), (80152, 4), (83716, 251), (88137, 31), (88506, 74),
            (98599, 44),
            (102815, 118), (106220, 141), (110361, 159), (114061, 135), (114606, 250),
        ],
        [
            (2717, 183), (4491, 45), (5525, 136), (8500, 196), (9421, 54), (17507, 240), (17537, 170), (18706, 220),
            (27018, 2),
            (27399, 184), (29662, 120), (36706, 178), (43496, 53), (48688, 178), (58377, 247), (62282, 15),
            (69341, 236),
            (74030, 73), (77653, 250), (77944, 70), (79521, 162), (87432, 143), (90837, 254), (92906, 70), (94252, 123),
            (94695, 155), (98385, 196), (102127, 89), (106616, 56), (107437, 96), (113645, 204), (116290, 100),
        ],
        // Dataset shapes that claimed hundreds of gigabytes (ckpt used to try to allocate them).
        [(8413, 162), (14596, 128), (28205, 240), (33958, 93), (52239, 32), (70988, 106), (78832, 233), (86747, 182)],
        [(7069, 56), (22956, 123), (28183, 222), (32822, 138), (35978, 10), (62027, 64), (69487, 134), (71974, 68)],
    ]

    func testMutatedFilesEndWithOneLineAndExitOne() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("families/bert/model.weights.h5")))
        for (n, mutation) in Self.mutations.enumerated() {
            var bytes = original
            for (at, value) in mutation where at < bytes.count { bytes[at] = value }
            let path = scratch + "/mutated-\(n).h5"
            try bytes.write(to: URL(fileURLWithPath: path))
            let r = try CLI.run(["inspect", "--stats", path])
            XCTAssertEqual(r.status, 1, "case \(n): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(path), r.stderr)
        }
    }
}
