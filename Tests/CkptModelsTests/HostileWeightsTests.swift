import CkptCore
import CkptFormats
import CkptMappings
@testable import CkptModels
import CkptTestSupport
import Foundation
import XCTest

/// Checkpoints whose shapes or config lie: every family's fixture, converted to native
/// safetensors, then one tensor narrowed, widened or transposed, or one config value changed.
/// Loading the model must fail with a `CkptError` that names the tensor, before anything is
/// computed — never a trap, a hang or numbers computed from garbage.
final class HostileWeightsTests: ScratchTestCase {
    /// The fixture of `family` as native safetensors + config.json in a scratch folder.
    func nativeCopy(_ family: String, layout: Layout = .native) throws -> String {
        var options = PlanOptions()
        options.targetLayout = layout
        let source = Fixtures.path("families/\(family)")
        let setup = try ConversionSetup(sourcePath: source, model: family, configPath: nil, options: options)
        var write = try setup.standardWriteOptions(sourcePath: source)
        write.extraFiles = []
        let out = "\(scratch)/\(family)-\(layout)"
        _ = try Converter.run(setup.plan, source: setup.source, to: out, options: write)
        return out
    }

    /// A copy of `folder` whose model.safetensors has `name` reshaped to `shape` (values repeated
    /// or cut to fit: only the shape matters).
    func reshaped(_ folder: String, _ name: String, to shape: [Int], as label: String) throws -> String {
        let reader = try SafetensorsReader(path: folder + "/model.safetensors")
        let out = "\(scratch)/\(label)"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder + "/config.json", toPath: out + "/config.json")
        let entries = reader.tensors.map {
            SafetensorsEntry(name: $0.name, dtype: $0.dtype, shape: $0.name == name ? shape : $0.shape)
        }
        let writer = try SafetensorsWriter(
            path: out + "/model.safetensors", entries: entries, metadata: reader.metadata)
        for (t, e) in zip(reader.tensors, entries) {
            var bytes = try reader.withBytes(of: t) { Array($0) }
            while bytes.count < e.byteCount { bytes += bytes.isEmpty ? [0] : bytes }
            try bytes.prefix(e.byteCount).withUnsafeBytes {
                try writer.append(UnsafeRawBufferPointer(rebasing: $0[...]))
            }
        }
        try writer.finish()
        return out
    }

    /// A copy of `folder` with its config.json changed by `edit`.
    func reconfigured(_ folder: String, as label: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let out = "\(scratch)/\(label)"
        try FileManager.default.copyItem(atPath: folder, toPath: out)
        var config = try Fixtures.json(out + "/config.json")
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: out + "/config.json"))
        return out
    }

    /// Loads the model of `folder` (and, with `run`, runs it); returns the error it ends in. A lie
    /// must be caught by the load: nothing is computed from a model that loaded.
    func loadError(_ folder: String, family: String, run: Bool = false) -> CkptError? {
        do {
            let setup = try ConversionSetup(sourcePath: folder, model: family, configPath: nil, options: PlanOptions())
            let model = try ReferenceModel(setup: setup)
            if run { _ = try model.run(ForwardRequest(tokens: [1, 2, 3], decoderTokens: [1, 2])) }
            return nil
        } catch let e as CkptError {
            return e
        } catch {
            XCTFail("\(folder): not a CkptError: \(error)")
            return nil
        }
    }

    /// Each tensor narrowed, widened and (for 2-D ones that are not square) transposed: refused
    /// at load time, naming that tensor. (Checked to fail: without the loop over ShapeTable in
    /// ModelGeometry, most reshaped tensors load and are caught only while computing.)
    func testEveryTensorWithAnotherShapeIsRefusedByName() throws {
        for family in Fixtures.families {
            let folder = try nativeCopy(family)
            let reader = try SafetensorsReader(path: folder + "/model.safetensors")
            XCTAssertNil(loadError(folder, family: family, run: true), "\(family): the unchanged copy must run")
            for (k, t) in reader.tensors.enumerated() {
                var shapes = [Array(t.shape.dropLast()) + [t.shape.last! + 1]]
                if t.shape.last! > 1 { shapes.append(Array(t.shape.dropLast()) + [t.shape.last! - 1]) }
                if t.shape.count == 2 && t.shape[0] != t.shape[1] { shapes.append([t.shape[1], t.shape[0]]) }
                if t.shape.count == 2 { shapes.append([t.shape[0] + 1, t.shape[1]]) }
                for (j, shape) in shapes.enumerated() {
                    let bad = try reshaped(folder, t.name, to: shape, as: "\(family)-\(k)-\(j)")
                    let e = loadError(bad, family: family)
                    XCTAssertNotNil(e, "\(family): \(t.name) as \(shape) was accepted")
                    guard let e else { continue }
                    XCTAssertTrue(
                        e.tensor?.contains(t.name) ?? false || e.detail.contains(t.name),
                        "\(family): \(t.name) as \(shape): \(e)")
                    try? FileManager.default.removeItem(atPath: bad)
                }
            }
        }
    }

    /// Sizes in config.json that contradict the tensors, or are no sizes at all.
    func testLyingConfigsAreRefused() throws {
        let edits: [(String, (inout [String: Any]) -> Void)] = [
            ("heads 0", { $0["num_attention_heads"] = 0 }),
            ("heads -2", { $0["num_attention_heads"] = -2 }),
            ("heads 3", { $0["num_attention_heads"] = 3 }),
            ("heads 5", { $0["num_attention_heads"] = 5 }),
            ("heads 1e12", { $0["num_attention_heads"] = 1e12 }),
            ("heads missing", { $0["num_attention_heads"] = nil }),
            ("hidden 32", { $0["hidden_size"] = 32 }),
            ("hidden 'x'", { $0["hidden_size"] = "x" }),
            ("intermediate 31", { $0["intermediate_size"] = 31 }),
            ("vocab 65", { $0["vocab_size"] = 65 }),
            ("activation", { $0["hidden_act"] = "swishy" }),
            ("layers 1e9", { $0["num_hidden_layers"] = 1_000_000_000 }),
            ("layers 0", { $0["num_hidden_layers"] = 0 }),
            ("key size", { $0["attention_head_size"] = 5 }),
            ("buckets", { $0["relative_attention_num_buckets"] = 31 }),
            ("max distance", { $0["relative_attention_max_distance"] = -1 }),
            ("positions", { $0["max_position_embeddings"] = 33 }),
        ]
        for family in Fixtures.families {
            let folder = try nativeCopy(family)
            let config = try Fixtures.json(folder + "/config.json")
            for (k, (label, edit)) in edits.enumerated() {
                var probe = config
                edit(&probe)
                // Keys the family's config does not use are no lie for it.
                let changed = Set(probe.keys).symmetricDifference(config.keys).union(
                    config.keys.filter { probe[$0].map { "\($0)" } != config[$0].map { "\($0)" } })
                guard !changed.isEmpty else { continue }
                if label == "buckets" || label == "max distance", !family.hasPrefix("t5") { continue }
                if label == "positions", family.hasPrefix("t5") || family == "nezha" || family == "roformer" {
                    continue
                }
                let bad = try reconfigured(folder, as: "\(family)-config-\(k)", edit)
                XCTAssertNotNil(loadError(bad, family: family), "\(family): config with \(label) was accepted")
            }
            // A config that is no JSON object.
            let list = "\(scratch)/\(family)-list"
            try FileManager.default.copyItem(atPath: folder, toPath: list)
            try Data("[{\"num_attention_heads\": 2}]".utf8).write(to: URL(fileURLWithPath: list + "/config.json"))
            XCTAssertEqual(loadError(list, family: family)?.kind, .malformed, family)
        }
    }

    /// Messages name tensors as the user's file does: a narrowed key kernel of a Hugging Face
    /// file is reported under its transformers name.
    func testErrorsUseTheUsersTensorNames() throws {
        let folder = try nativeCopy("bert", layout: "hf")
        let name = "bert.encoder.layer.1.attention.self.key.weight"
        let reader = try SafetensorsReader(path: folder + "/model.safetensors")
        let shape = try XCTUnwrap(reader.tensors.first { $0.name == name }).shape
        let bad = try reshaped(folder, name, to: [shape[0] - 1, shape[1]], as: "bert-hf-narrow")
        let e = try XCTUnwrap(loadError(bad, family: "bert"))
        XCTAssertEqual(e.tensor, name, "\(e)")
        XCTAssertTrue(e.detail.contains("[16, 16]"), "\(e)")
    }

    /// T5's bucket function stays inside the table for every size a config may give.
    func testT5BucketsStayInTheTable() {
        for buckets in 1...40 {
            for distance in [1, 2, 3, 8, 128, 1 << 30] {
                for bidirectional in [true, false] {
                    for q in 0..<12 {
                        for k in 0..<12 {
                            let b = PositionScheme.t5Bucket(
                                query: q, key: k, bidirectional: bidirectional, buckets: buckets, maxDistance: distance)
                            XCTAssertTrue((0..<buckets).contains(b), "\(buckets) buckets, distance \(distance): \(b)")
                        }
                    }
                }
            }
        }
        // The values T5 itself gives (mesh_tensorflow _relative_position_bucket, 32 buckets, 128).
        XCTAssertEqual(
            PositionScheme.t5Bucket(query: 0, key: 100, bidirectional: true, buckets: 32, maxDistance: 128), 16 + 15)
        XCTAssertEqual(
            PositionScheme.t5Bucket(query: 0, key: 5, bidirectional: true, buckets: 32, maxDistance: 128), 16 + 5)
        XCTAssertEqual(PositionScheme.t5Bucket(query: 5, key: 0, bidirectional: true, buckets: 32, maxDistance: 128), 5)
        XCTAssertEqual(
            PositionScheme.t5Bucket(query: 20, key: 0, bidirectional: false, buckets: 32, maxDistance: 128), 17)
    }
}
