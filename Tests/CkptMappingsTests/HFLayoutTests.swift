import CkptCore
import CkptFormats
@testable import CkptMappings
import CkptTestSupport
import Foundation
import XCTest

/// `--layout hf` against what transformers' own TF loaders (`load_tf_weights_in_*`, 4.46.3) put
/// into the model's state_dict from the same fixture checkpoint (Fixtures/generate.py).
final class HFLayoutTests: XCTestCase {
    static let cases = [
        ("bert", "families/bert"), ("albert", "families/albert"), ("electra", "families/electra"),
        ("roformer", "families/roformer"), ("nezha", "families/nezha"), ("t5.1.0", "families/t5.1.0"),
        ("t5.1.1", "families/t5.1.1"),
        ("gpt2", "special/gpt2_openai"),
    ]

    func testNamesShapesAndValuesEqualTransformersStateDict() throws {
        for (family, dir) in Self.cases {
            let folder = Fixtures.path(dir)
            var options = PlanOptions()
            options.targetLayout = "hf"
            let setup = try ConversionSetup(sourcePath: folder, model: nil, configPath: nil, options: options)
            XCTAssertEqual(setup.plan.family, family)
            let out = NSTemporaryDirectory() + "ckpt-hf-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: out) }
            _ = try Converter.run(
                setup.plan, source: setup.source, to: out, options: try setup.standardWriteOptions(sourcePath: folder))

            let listing = try Fixtures.json(folder + "/golden.hf.json")
            // Tied names are written once, under the name transformers re-ties from (the table says
            // which: ALBERT ties its MLM bias from the decoder's); the untrained ones are not written,
            // except tables ckpt computes as transformers does (RoFormer's sinusoidal positions).
            let generated = Set((setup.table.generated?["hf"] ?? []).map(\.name))
            let skip = Set((setup.table.hfTied ?? [:]).keys)
                .union((listing["not_loaded"] as? [String] ?? []).filter { !generated.contains($0) })
            let golden = try SafetensorsReader(path: folder + "/golden.hf.safetensors")
            let ours = try SafetensorsReader(path: out + "/model.safetensors")
            XCTAssertEqual(ours.metadata["format"], "pt")
            let expected = golden.tensors.filter { !skip.contains($0.name) }
            XCTAssertEqual(ours.tensors.map(\.name), expected.map(\.name), family)
            for g in expected {
                guard let o = ours.tensors.first(where: { $0.name == g.name }) else { continue }
                XCTAssertEqual(o.shape, g.shape, "\(family) \(g.name)")
                XCTAssertEqual(o.dtype, g.dtype, "\(family) \(g.name)")
                let a = try ours.withBytes(of: o) { Array($0) }, b = try golden.withBytes(of: g) { Array($0) }
                XCTAssertEqual(a, b, "\(family) \(g.name) values")
            }
            // Every key we write agrees with the config transformers used.
            let config = try ModelConfig(path: out + "/config.json").values
            let reference = try ModelConfig(path: folder + "/config.hf.json").values
            for (k, v) in config where k != "activation_function" {
                XCTAssertEqual(v, reference[k], "\(family) config \(k)")
            }
        }
    }

    func testFamiliesWithoutHFLayoutSayWhy() throws {
        var options = PlanOptions()
        options.targetLayout = "hf"
        let setup = try ConversionSetup(
            sourcePath: Fixtures.path("families/gpt2_ml"), model: nil, configPath: nil, options: options)
        XCTAssertThrowsError(try setup.standardWriteOptions(sourcePath: Fixtures.path("families/gpt2_ml"))) { e in
            XCTAssertTrue((e as? CkptError)?.detail.contains("no Hugging Face layout") ?? false)
        }
    }
}
