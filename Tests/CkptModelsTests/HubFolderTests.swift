import CkptCore
import CkptFormats
import CkptMappings
import CkptModels
import CkptTestSupport
import Foundation
import XCTest

/// Folders as the Hugging Face Hub publishes them (Fixtures/hub: tiny random models of each
/// transformers class saved by `save_pretrained` as safetensors and as `pytorch_model.bin`, with
/// transformers' own outputs, part hub:* of Fixtures/generate.py): every stored tensor listed,
/// the family detected, and the forward pass equal to transformers'.
final class HubFolderTests: XCTestCase {
    static let tolerance: Float = 1e-4

    /// Which ckpt output a transformers output is, and how its values compare (logits become
    /// probabilities as bert4keras' heads give them); nil when ckpt has no such output (task heads).
    static func counterpart(_ output: String, modelClass: String) -> (name: String, transform: Transform)? {
        switch output {
        case "last_hidden_state":
            return modelClass.hasPrefix("T5Encoder") ? ("encoder_hidden", .none) : ("hidden", .none)
        case "encoder_last_hidden_state": return ("encoder_hidden", .none)
        case "decoder_last_hidden_state": return ("decoder_hidden", .none)
        case "logits" where modelClass.hasSuffix("ForConditionalGeneration"): return ("decoder_probs", .softmax)
        case "pooler_output": return ("pooled", .none)
        case "prediction_logits": return ("mlm_probs", .softmax)
        case "seq_relationship_logits": return ("nsp_probs", .softmax)
        case "logits" where modelClass.hasSuffix("ForMaskedLM"): return ("mlm_probs", .softmax)
        case "logits" where modelClass.hasPrefix("Electra") && modelClass.hasSuffix("ForPreTraining"):
            return ("discriminator_probs", .sigmoid)
        case "logits" where modelClass.hasSuffix("LMHeadModel"): return ("lm_probs", .softmax)
        default: return nil
        }
    }

    enum Transform { case none, softmax, sigmoid }

    static func isShard(_ file: String) -> Bool { file.contains("-of-") }

    struct Case {
        let folder: String
        let golden: [String: Any]
        var modelClass: String { golden["class"] as! String }
        var family: String { golden["ckpt_family"] as! String }
        var files: [String: Any] { golden["files"] as! [String: Any] }
        var inputs: [String: [Int]] { golden["inputs"] as! [String: [Int]] }
        var outputs: [String] { (golden["outputs"] as! [String: Any]).keys.sorted() }
    }

    static func cases() throws -> [Case] {
        let root = Fixtures.path("hub")
        return try FileManager.default.contentsOfDirectory(atPath: root).sorted().compactMap { name in
            let folder = root + "/" + name
            guard FileManager.default.fileExists(atPath: folder + "/golden.json") else { return nil }
            return Case(folder: folder, golden: try Fixtures.json(folder + "/golden.json"))
        }
    }

    func testEveryStoredTensorIsListedAndTheFamilyDetected() throws {
        let all = try Self.cases()
        XCTAssertGreaterThanOrEqual(all.count, 17)
        for c in all {
            for (file, listing) in c.files.sorted(by: { $0.key < $1.key }) {
                if let entries = listing as? [[String: Any]] {
                    let source = try CheckpointOpener.open(c.folder + "/" + file)
                    XCTAssertEqual(
                        Set(source.tensors.map(\.name)), Set(entries.map { $0["name"] as! String }),
                        "\(c.modelClass) \(file)")
                }
                guard !Self.isShard(file) else { continue }  // a shard alone is no model
                let setup = try ConversionSetup(
                    sourcePath: c.folder + "/" + file, model: nil, configPath: nil, options: PlanOptions())
                XCTAssertEqual(setup.plan.family, c.family, "\(c.modelClass) \(file)")
            }
        }
    }

    func testForwardReproducesTransformers() throws {
        var compared = 0
        for c in try Self.cases() {
            for file in c.files.keys.sorted() where !Self.isShard(file) {
                compared += try check(c, file: file)
            }
        }
        // Every case, both formats, at least the hidden states; the heads besides.
        XCTAssertGreaterThanOrEqual(compared, 60)
    }

    /// Compares what ckpt computes from `file` with transformers' outputs; returns how many.
    func check(_ c: Case, file: String) throws -> Int {
        let label = "\(c.modelClass) [\(file)]"
        let setup = try ConversionSetup(
            sourcePath: c.folder + "/" + file, model: nil, configPath: nil, options: PlanOptions())
        let model = try ReferenceModel(setup: setup)
        var heads = Set<Head>()
        let outputs = c.outputs.compactMap { o in Self.counterpart(o, modelClass: c.modelClass).map { (o, $0) } }
        for (_, (name, _)) in outputs {
            switch name {
            case "pooled": heads.insert(.pool)
            case "nsp_probs": heads.insert(.nsp)
            case "mlm_probs": heads.insert(.mlm)
            case "discriminator_probs": heads.insert(.discriminator)
            default: break
            }
        }
        let ids = try XCTUnwrap(c.inputs["input_ids"])
        let request = ForwardRequest(
            tokens: ids, segments: c.inputs["token_type_ids"], decoderTokens: c.inputs["decoder_input_ids"],
            application: .encoder, heads: heads)
        let ours = try model.run(request)
        let npz = try NPZReader(path: c.folder + "/golden.outputs.npz")
        XCTAssertFalse(outputs.isEmpty, label)
        for (hfName, (name, transform)) in outputs {
            let t = try npz.tensor(named: hfName)
            var expected = try npz.withBytes(of: t) { Array($0.bindMemory(to: Float.self)) }
            expected = Self.apply(transform, expected, rowLength: t.shape.last ?? 1)
            guard let got = ours[name] else {
                XCTFail("\(label): no output \(name)")
                continue
            }
            XCTAssertEqual(got.values.count, expected.count, "\(label) \(name)")
            guard got.values.count == expected.count else { continue }
            let worst = zip(got.values, expected).map { abs($0 - $1) }.max().map { $0.isNaN ? .infinity : $0 } ?? 0
            XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(label) \(name) vs transformers' \(hfName)")
        }
        return outputs.count
    }

    static func apply(_ t: Transform, _ v: [Float], rowLength: Int) -> [Float] {
        switch t {
        case .none: return v
        case .sigmoid: return v.map { 1 / (1 + Float(exp(-Double($0)))) }
        case .softmax:
            return stride(from: 0, to: v.count, by: rowLength).flatMap { start -> [Float] in
                let row = v[start..<start + rowLength].map(Double.init)
                let m = row.max()!
                let e = row.map { exp($0 - m) }
                let s = e.reduce(0, +)
                return e.map { Float($0 / s) }
            }
        }
    }
}
