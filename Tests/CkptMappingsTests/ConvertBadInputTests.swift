import CkptCore
import CkptFormats
@testable import CkptMappings
import CkptTestSupport
import Foundation
import XCTest

/// Conversions that must fail with one clear error and leave nothing under the output name.
final class ConvertBadInputTests: ScratchTestCase {

    func error(_ body: () throws -> Void) -> CkptError? {
        do { try body() } catch let e as CkptError { return e } catch { XCTFail("\(error)") }
        XCTFail("no error")
        return nil
    }

    func testUnknownFamilyIsNamed() {
        let e = error {
            _ = try ConversionSetup(
                sourcePath: Fixtures.path("families/bert"), model: "bart", configPath: nil, options: PlanOptions())
        }
        XCTAssertTrue(e?.detail.contains("unknown family 'bart'") ?? false, e?.description ?? "")
    }

    func testConfigThatContradictsTheShapesNamesTheTensor() throws {
        var values = try ModelConfig(path: Fixtures.path("families/bert/config.json")).values
        values["vocab_size"] = .number(99)
        let path = scratch + "/config.json"
        try JSONEncoder().encode(JSONValue.object(values)).write(to: URL(fileURLWithPath: path))
        let e = error {
            _ = try ConversionSetup(
                sourcePath: Fixtures.path("families/bert"), model: nil, configPath: path, options: PlanOptions())
        }
        XCTAssertEqual(e?.kind, .sizeMismatch)
        XCTAssertEqual(e?.tensor, "bert/embeddings/word_embeddings")

        values["vocab_size"] = .number(64)
        values["num_hidden_layers"] = .number(3)
        try JSONEncoder().encode(JSONValue.object(values)).write(to: URL(fileURLWithPath: path))
        let l = error {
            _ = try ConversionSetup(
                sourcePath: Fixtures.path("families/bert"), model: nil, configPath: path, options: PlanOptions())
        }
        XCTAssertTrue(l?.detail.contains("3 layers") ?? false, l?.description ?? "")
    }

    func testMissingRequiredTensorIsNamed() throws {
        let source = try CheckpointOpener.open(Fixtures.path("families/bert"))
        let table = MappingTable.named("bert")!
        let planner = ConversionPlanner(table: table, sourceLayout: "tf", layerCount: 2, sourcePath: source.path)
        let without = source.tensors.filter { $0.name != "bert/encoder/layer_1/attention/self/key/kernel" }
        let e = error { _ = try planner.plan(without, options: PlanOptions()) }
        XCTAssertEqual(e?.kind, .tensorNotFound)
        XCTAssertEqual(e?.tensor, "bert/encoder/layer_1/attention/self/key/kernel")
    }

    func testUnmappedTensorIsAnErrorUnlessAllowed() throws {
        let source = try CheckpointOpener.open(Fixtures.path("families/bert"))
        let planner = ConversionPlanner(
            table: MappingTable.named("bert")!, sourceLayout: "tf", layerCount: 2, sourcePath: source.path)
        let extra = source.tensors + [TensorInfo(name: "my/extra/head", dtype: .float32, shape: [2], byteCount: 8)]
        let e = error { _ = try planner.plan(extra, options: PlanOptions()) }
        XCTAssertEqual(e?.tensor, "my/extra/head")
        var allow = PlanOptions()
        allow.allowUnmapped = true
        XCTAssertEqual(try planner.plan(extra, options: allow).unmapped.map(\.name), ["my/extra/head"])
    }

    func testDuplicateTargetsAreRefused() throws {
        let json =
            #"{"family": "dup", "description": "", "detect": {}, "#
            + #""rules": [{"native": "a", "tf": "bert/pooler/dense/kernel"}, "#
            + #"{"native": "a", "tf": "bert/pooler/dense/bias"}]}"#
        let table = try MappingTable.parse(Data(json.utf8), origin: "dup.json")
        let source = try CheckpointOpener.open(Fixtures.path("families/bert"))
        var allow = PlanOptions()
        allow.allowUnmapped = true
        let e = error {
            _ = try ConversionPlanner(table: table, sourceLayout: "tf", layerCount: 0, sourcePath: source.path).plan(
                source.tensors, options: allow)
        }
        XCTAssertEqual(e?.tensor, "a")
    }

    /// A failure while writing (here: a tensor the source cannot deliver) leaves no output folder
    /// and no temporary folder behind.
    func testFailedConversionLeavesNothing() throws {
        let copy = try Fixtures.scratchCopy(of: Fixtures.path("families/bert"))
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let data = copy + "/model.ckpt.data-00000-of-00001"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: data))
        bytes[bytes.count - 3] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: data))
        let setup = try ConversionSetup(sourcePath: copy, model: nil, configPath: nil, options: PlanOptions())
        let out = scratch + "/out"
        let e = error { _ = try Converter.run(setup.plan, source: setup.source, to: out, options: WriteOptions()) }
        XCTAssertEqual(e?.kind, .checksumMismatch)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [])
    }

    func testExistingOutputIsKeptWithoutForce() throws {
        let out = scratch + "/out"
        try FileManager.default.createDirectory(atPath: out + "/sub/deeper", withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        try Data("and me".utf8).write(to: URL(fileURLWithPath: out + "/sub/deeper/more.txt"))
        let setup = try ConversionSetup(
            sourcePath: Fixtures.path("families/bert"), model: nil, configPath: nil, options: PlanOptions())
        let e = error { _ = try Converter.run(setup.plan, source: setup.source, to: out, options: WriteOptions()) }
        XCTAssertTrue(e?.detail.contains("--force") ?? false)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["notes.txt", "sub"])
        var force = try setup.standardWriteOptions(sourcePath: Fixtures.path("families/bert"))
        force.force = true
        // --force replaces only what ckpt wrote: the user's files are named and kept.
        let refused = error { _ = try Converter.run(setup.plan, source: setup.source, to: out, options: force) }
        XCTAssertEqual(refused?.kind, .badUsage)
        XCTAssertTrue(refused?.detail.contains("'notes.txt'") ?? false, "\(String(describing: refused))")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["notes.txt", "sub"])
        // A folder ckpt wrote is replaced.
        let mine = scratch + "/mine"
        _ = try Converter.run(setup.plan, source: setup.source, to: mine, options: WriteOptions())
        _ = try Converter.run(setup.plan, source: setup.source, to: mine, options: force)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: mine).sorted(),
            [".ckpt-output", "config.json", "model.safetensors"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).sorted(), ["mine", "out"])
    }

    func testUnwritableOutputIsAnError() throws {
        let setup = try ConversionSetup(
            sourcePath: Fixtures.path("families/bert"), model: nil, configPath: nil, options: PlanOptions())
        let e = error {
            _ = try Converter.run(
                setup.plan, source: setup.source, to: scratch + "/no/such/parent/out", options: WriteOptions())
        }
        XCTAssertEqual(e?.kind, .fileNotFound)
    }

    func testByteSizes() {
        XCTAssertEqual(ByteSize.parse("500MB"), 500_000_000)
        XCTAssertEqual(ByteSize.parse("2GiB"), 2 << 30)
        XCTAssertEqual(ByteSize.parse("1234"), 1234)
        XCTAssertNil(ByteSize.parse("lots"))
        XCTAssertNil(ByteSize.parse("-5MB"))
    }
}
