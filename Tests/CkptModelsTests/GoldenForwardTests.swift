import CkptCore
import CkptFormats
import CkptMappings
import CkptModels
import CkptTestSupport
import Foundation
import XCTest

/// The forward pass against bert4keras' own `predict` outputs (Fixtures/generate.py, part
/// forward:*), for every family × application × heads case, from the TF checkpoint, from the
/// Keras HDF5 file and from a converted native folder.
final class GoldenForwardTests: ScratchTestCase {
    static let tolerance: Float = 1e-4

    struct Case {
        let name: String
        let file: String
        let application: Application
        let heads: Set<Head>
        let outputs: [String]
    }

    func cases(_ family: String) throws -> [Case] {
        let json = try Fixtures.json(Fixtures.path("families/\(family)/forward/cases.json"))
        return (json["cases"] as! [[String: Any]]).map { c in
            let flags = c["heads"] as? [String: Bool] ?? [:]
            var heads = Set<Head>()
            if flags["with_pool"] == true { heads.insert(.pool) }
            if flags["with_nsp"] == true { heads.insert(.nsp) }
            if flags["with_mlm"] == true { heads.insert(.mlm) }
            if flags["with_discriminator"] == true { heads.insert(.discriminator) }
            return Case(
                name: c["case"] as! String, file: c["file"] as! String,
                application: Application(rawValue: c["application"] as? String ?? "encoder") ?? .encoder,
                heads: heads, outputs: c["outputs"] as! [String])
        }
    }

    func ints(_ r: NPZReader, _ name: String) throws -> [Int]? {
        guard let t = r.tensors.first(where: { $0.name == name }) else { return nil }
        return try r.withBytes(of: t) { b in
            switch t.dtype {
            case .int32: return b.bindMemory(to: Int32.self).map(Int.init)
            case .int64: return b.bindMemory(to: Int64.self).map(Int.init)
            default: return nil
            }
        }
    }

    func model(_ path: String, family: String) throws -> ReferenceModel {
        try ReferenceModel(
            setup: ConversionSetup(
                sourcePath: path, model: family, configPath: Fixtures.path("families/\(family)/config.json"),
                options: PlanOptions()))
    }

    /// A TF checkpoint's float32 weights are used where they lie in its mapped data file (no
    /// copy), hold the bytes the source holds, and writing to one copies it first (the mapping is
    /// read-only: a write into it would crash).
    func testWeightsOfAMappedCheckpointAreBorrowed() throws {
        let dir = Fixtures.path("families/bert")
        let setup = try ConversionSetup(sourcePath: dir, model: "bert", configPath: nil, options: PlanOptions())
        let store = try WeightStore.load(setup)
        var borrowed = 0
        for o in setup.plan.outputs where o.inputs.count == 1 && o.inputs[0].source.shape.count == 2 {
            let t = try XCTUnwrap(store.tensors[o.nativeName ?? ""], o.name)
            let stored = try setup.source.withBytes(of: o.inputs[0].source) { Array($0.bindMemory(to: Float.self)) }
            XCTAssertEqual(t.values.array, stored, o.name)
            if t.values.isBorrowed { borrowed += 1 }
            var copy = t.values
            copy[0] = copy[0] + 1
            XCTAssertFalse(copy.isBorrowed)
            XCTAssertEqual(t.values.array, stored, "\(o.name): a write to a copy reached the source")
        }
        XCTAssertGreaterThan(borrowed, 10)
    }

    func check(family: String) throws {
        let dir = Fixtures.path("families/\(family)")
        let setup = try ConversionSetup(sourcePath: dir, model: family, configPath: nil, options: PlanOptions())
        _ = try Converter.run(
            setup.plan, source: setup.source, to: scratch + "/native-\(family)",
            options: try setup.standardWriteOptions(sourcePath: dir))
        // ALBERT_Unshared's goldens come from ALBERT's shared TF release loaded into every layer;
        // its Keras fixture holds different, per-layer weights, so it is not a source for them.
        let sources = [("tf", dir), ("keras", dir + "/model.weights.h5"), ("native", scratch + "/native-\(family)")]
            .filter { family != "albert_unshared" || $0.0 != "keras" }
        let models = try sources.map { ($0.0, try model($0.1, family: family)) }
        let all = try cases(family)
        XCTAssertFalse(all.isEmpty, family)
        for c in all {
            let npz = try NPZReader(path: dir + "/forward/" + c.file)
            let request = ForwardRequest(
                tokens: try XCTUnwrap(ints(npz, "token_ids")), segments: try ints(npz, "segment_ids"),
                decoderTokens: try ints(npz, "decoder_token_ids"), application: c.application, heads: c.heads)
            for (label, m) in models {
                let outputs = try m.run(request)
                for name in c.outputs {
                    let golden = try npz.tensor(named: name)
                    let expected = try npz.withBytes(of: golden) { Array($0.bindMemory(to: Float.self)) }
                    guard let ours = outputs[name] else {
                        XCTFail("\(family) \(c.name) [\(label)]: no output \(name)")
                        continue
                    }
                    XCTAssertEqual(ours.values.count, expected.count, "\(family) \(c.name) [\(label)] \(name) size")
                    guard ours.values.count == expected.count else { continue }
                    var worst: Float = 0
                    for i in expected.indices {
                        let d = abs(ours.values[i] - expected[i])
                        worst = d.isNaN ? .infinity : max(worst, d)  // a NaN is never within tolerance
                    }
                    XCTAssertLessThanOrEqual(
                        worst, Self.tolerance, "\(family) \(c.name) [\(label)] \(name): max abs difference \(worst)")
                }
            }
        }
    }

    /// Every folder of Fixtures/families with goldens is checked: a new family's fixtures are
    /// tested by being there (its family is the `ckpt_family` of its config.json).
    func testEveryFamilyFolderMatchesItsGoldens() throws {
        let root = Fixtures.path("families")
        var checked: [String] = []
        for folder in try FileManager.default.contentsOfDirectory(atPath: root).sorted() {
            let dir = root + "/" + folder
            guard FileManager.default.fileExists(atPath: dir + "/forward/cases.json") else { continue }
            let family = try Fixtures.json(dir + "/config.json")["ckpt_family"] as? String ?? folder
            try check(family: family)
            checked.append(family)
        }
        XCTAssertEqual(checked.count, Fixtures.families.count, "families with goldens: \(checked)")
    }
}
