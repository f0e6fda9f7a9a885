import CkptCore
import CkptFormats
@testable import CkptMappings
import CkptTestSupport
import Foundation
import XCTest

/// `convert` into the native layout, checked against the fixtures TensorFlow and bert4keras wrote.
final class ConvertTests: ScratchTestCase {

    @discardableResult
    func convert(
        _ source: String, model: String? = nil, config: String? = nil, to name: String,
        options: PlanOptions = PlanOptions(), maxShardSize: Int? = nil
    ) throws -> (ConversionSetup, String) {
        let setup = try ConversionSetup(sourcePath: source, model: model, configPath: config, options: options)
        let out = scratch + "/" + name
        var write = try setup.standardWriteOptions(sourcePath: source)
        write.maxShardSize = maxShardSize
        _ = try Converter.run(setup.plan, source: setup.source, to: out, options: write)
        return (setup, out)
    }

    func tensors(_ folder: String) throws -> [String: (TensorInfo, [UInt8])] {
        let r = try CheckpointOpener.open(folder)
        var out: [String: (TensorInfo, [UInt8])] = [:]
        for t in r.tensors { out[t.name] = (t, try r.withBytes(of: t) { Array($0) }) }
        return out
    }

    /// The TF checkpoint and the Keras file of each family hold the same weights (bert4keras
    /// wrote both): converted to native they give the same names and bit-identical values.
    func testTFAndKerasGiveTheSameNativeTensors() throws {
        for family in Fixtures.families where family != "albert_unshared" {
            let dir = Fixtures.path("families/\(family)")
            try convert(dir, to: "\(family)-tf")
            try convert(dir + "/model.weights.h5", to: "\(family)-keras")
            let a = try tensors(scratch + "/\(family)-tf"), b = try tensors(scratch + "/\(family)-keras")
            XCTAssertEqual(Set(a.keys), Set(b.keys), family)
            for (name, (info, bytes)) in a {
                XCTAssertEqual(info.shape, b[name]?.0.shape, "\(family) \(name)")
                XCTAssertEqual(bytes, b[name]?.1, "\(family) \(name) values")
            }
        }
    }

    /// ALBERT_Unshared reads ALBERT's shared release: every layer is layer 0 of the TF file.
    func testAlbertUnsharedFromTheSharedReleaseRepeatsTheLayer() throws {
        let dir = Fixtures.path("families/albert_unshared")
        let (setup, out) = try convert(dir, model: "albert_unshared", to: "au")
        XCTAssertEqual(setup.plan.layerCount, 2)
        let t = try tensors(out)
        let keras = try tensors(try convert(dir + "/model.weights.h5", to: "au-keras").1)
        XCTAssertEqual(Set(t.keys), Set(keras.keys))
        XCTAssertEqual(t["encoder.layers.0.attention.query.weight"]?.1, t["encoder.layers.1.attention.query.weight"]?.1)
        for (name, v) in t where !name.contains("layers.1.") {
            XCTAssertEqual(v.1, keras[name]?.1, name)
        }
    }

    /// Native keeps TF's orientation: each output's bytes are exactly the TF variable's
    /// (TensorFlow's golden CRC32), and every TF variable is used exactly once.
    func testNativeIsAPureRenameOfEveryTFVariable() throws {
        for family in Fixtures.families {
            let dir = Fixtures.path("families/\(family)")
            let golden = try Fixtures.json(dir + "/golden.tf.json")
            let vars = (golden["variables"] as! [[String: Any]]).map(GoldenTensor.init)
            let model = family == "albert_unshared" ? "albert" : nil
            let (setup, out) = try convert(dir, model: model, to: family)
            let sources = setup.plan.outputs.map { $0.inputs[0].source.name }
            XCTAssertEqual(sources.sorted(), vars.map(\.name).sorted(), "\(family): every TF variable exactly once")
            let written = try tensors(out)
            for o in setup.plan.outputs {
                let g = vars.first { $0.name == o.inputs[0].source.name }!
                let crc = written[o.name]!.1.withUnsafeBytes { Checksum.crc32($0) }
                XCTAssertEqual(crc, g.crc32, "\(family): \(o.name) from \(g.name)")
            }
        }
    }

    func testOptimizerSlotsAreDroppedAndCounted() throws {
        let dir = Fixtures.path("special/optimizer")
        let golden = (try Fixtures.json(dir + "/golden.tf.json")["variables"] as! [[String: Any]]).map(
            GoldenTensor.init)
        let (setup, out) = try convert(dir, config: Fixtures.path("families/bert/config.json"), to: "opt")
        let slots = golden.filter {
            $0.name.hasSuffix("/adam_m") || $0.name.hasSuffix("/adam_v") || $0.name == "global_step"
        }
        XCTAssertFalse(slots.isEmpty)
        XCTAssertEqual(Set(setup.plan.dropped.map(\.tensor.name)), Set(slots.map(\.name)))
        XCTAssertTrue(setup.plan.dropped.allSatisfy { $0.reason == .optimizerSlot })
        let params = try tensors(out).values.reduce(0) { $0 + $1.0.elementCount }
        let expected = golden.filter { g in !slots.contains { $0.name == g.name } }.reduce(0) {
            $0 + $1.shape.reduce(1, *)
        }
        XCTAssertEqual(params, expected)

        var keep = PlanOptions()
        keep.keepOptimizer = true
        let kept = try convert(dir, config: Fixtures.path("families/bert/config.json"), to: "opt-kept", options: keep).0
        XCTAssertEqual(kept.plan.unmapped.count, slots.count)
    }

    func testShardedOutputReadsBackWithItsIndex() throws {
        let (_, out) = try convert(Fixtures.path("families/bert"), to: "sharded", maxShardSize: 4096)
        let files = FileManager.default.subpaths(atPath: out)!.filter { $0.hasSuffix(".safetensors") }
        XCTAssertGreaterThan(files.count, 3)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/model.safetensors.index.json"))
        let whole = try tensors(try convert(Fixtures.path("families/bert"), to: "whole").1)
        let sharded = try tensors(out)
        XCTAssertEqual(Set(whole.keys), Set(sharded.keys))
        for (k, v) in whole { XCTAssertEqual(v.1, sharded[k]?.1, k) }
    }

    func testMetadataAndConfigAreWritten() throws {
        let (_, out) = try convert(Fixtures.path("families/bert"), to: "meta")
        let r = try SafetensorsReader(path: out + "/model.safetensors")
        XCTAssertEqual(r.metadata["ckpt_family"], "bert")
        XCTAssertEqual(r.metadata["source_format"], "tf")
        XCTAssertEqual(r.metadata["ckpt_layout"], "native")
        let config = try ModelConfig(path: out + "/config.json")
        XCTAssertEqual(config.string("ckpt_family"), "bert")
        XCTAssertEqual(config.int("hidden_size"), 16)
    }

    /// A native safetensors folder converts again to the same tensors (detection by metadata).
    func testNativeOutputConvertsAgainUnchanged() throws {
        let (_, first) = try convert(Fixtures.path("families/nezha"), to: "n1")
        let (setup, second) = try convert(first, to: "n2")
        XCTAssertEqual(setup.plan.family, "nezha")
        XCTAssertEqual(setup.plan.sourceLayout, "native")
        let a = try tensors(first), b = try tensors(second)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (k, v) in a { XCTAssertEqual(v.1, b[k]?.1, k) }
    }
}

extension ConvertTests {
    /// --dtype: every floating tensor is cast (by the cast NumPy's goldens check), others untouched.
    func testDTypeCastAppliesToFloatingTensors() throws {
        var options = PlanOptions()
        options.dtype = .bfloat16
        let (setup, out) = try convert(Fixtures.path("families/bert"), to: "bf16", options: options)
        let source = setup.source
        for (name, (info, bytes)) in try tensors(out) {
            XCTAssertEqual(info.dtype, .bfloat16, name)
            let src = setup.plan.outputs.first { $0.name == name }!.inputs[0].source
            let expected = try source.withBytes(of: src) { s -> [UInt8] in
                var e = [UInt8](repeating: 0, count: s.count / 2)
                e.withUnsafeMutableBytes { DTypeCast.convert(s, from: .float32, into: $0, to: .bfloat16) }
                return e
            }
            XCTAssertEqual(bytes, expected, name)
        }
    }
}
