import CkptCore
@testable import CkptFormats
@testable import CkptMappings
import CkptTestSupport
import Foundation
import XCTest

/// The Keras HDF5 writer against the files Keras itself saved (Fixtures/families/*/model.weights.h5,
/// bert4keras save_weights), read back by ckpt's reader (h5py and bert4keras read them in the
/// interop test, scripts/interop.sh).
final class KerasWriterTests: ScratchTestCase {
    func convert(_ source: String, to name: String, layout: Layout, model: String? = nil, config: String? = nil) throws
        -> String
    {
        var options = PlanOptions()
        options.targetLayout = layout
        let setup = try ConversionSetup(sourcePath: source, model: model, configPath: config, options: options)
        let out = scratch + "/" + name
        _ = try Converter.run(
            setup.plan, source: setup.source, to: out, options: try setup.standardWriteOptions(sourcePath: source))
        return out
    }

    func contents(_ path: String) throws -> [String: [UInt8]] {
        let r = try CheckpointOpener.open(path)
        return Dictionary(
            uniqueKeysWithValues: try r.tensors.map { t in (t.name, try r.withBytes(of: t) { Array($0) }) })
    }

    /// Per layer, the weights in order as (dtype, shape, bytes).
    func layers(_ path: String) throws -> (names: [String], weights: [String: [(DType, [Int], [UInt8])]]) {
        let r = try KerasH5Reader(path: path)
        var weights: [String: [(DType, [Int], [UInt8])]] = [:]
        for t in r.tensors.sorted(by: {
            ($0.group ?? "", $0.indexInGroup ?? 0) < ($1.group ?? "", $1.indexInGroup ?? 0)
        }) {
            weights[t.group!, default: []].append((t.dtype, t.shape, try r.withBytes(of: t) { Array($0) }))
        }
        return (r.layerNames, weights)
    }

    /// TF checkpoint -> Keras file: the layers Keras saved, in its order, with the same weights
    /// bit for bit (NEZHA's computed sinusoidal table within float32 rounding of TensorFlow's).
    func testTFToKerasEqualsTheFileKerasSaved() throws {
        for family in Fixtures.families {
            let dir = Fixtures.path("families/\(family)")
            let out = try convert(dir, to: "\(family)-keras", layout: "keras", model: family)
            XCTAssertEqual(FileSystem.contents(of: out).sorted(), [".ckpt-output", "config.json", "model.h5"], family)
            let mine = try layers(out + "/model.h5")
            let keras = try layers(dir + "/model.weights.h5")
            XCTAssertEqual(mine.names, keras.names, family)
            for (layer, expected) in keras.weights {
                let got = mine.weights[layer] ?? []
                XCTAssertEqual(got.count, expected.count, "\(family) \(layer)")
                for (g, e) in zip(got, expected) {
                    XCTAssertEqual(g.0, e.0, "\(family) \(layer) dtype")
                    XCTAssertEqual(g.1, e.1, "\(family) \(layer) shape")
                    if layer == "Embedding-Relative-Position" {
                        let a = g.2.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                        let b = e.2.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                        XCTAssertLessThanOrEqual(
                            zip(a, b).map { abs($0 - $1) }.max() ?? 1, 2e-7, "\(family) sinusoidal table")
                    } else if family == "albert_unshared" && layer.hasPrefix("Transformer-")
                        && !layer.hasPrefix("Transformer-0-")
                    {
                        // The TF release shares one set of names: every layer gets layer 0's values
                        // (the Keras fixture was saved with distinct random layers).
                        let zero =
                            mine.weights["Transformer-0-" + layer.split(separator: "-", maxSplits: 2).last!] ?? []
                        XCTAssertTrue(zero.contains { $0.2 == g.2 }, "\(family) \(layer) repeats layer 0")
                    } else {
                        XCTAssertTrue(g.2 == e.2, "\(family) \(layer) values")
                    }
                }
            }
        }
    }

    /// tf -> keras -> native equals tf -> native; keras -> keras keeps the file's weights.
    func testKerasRoundTrips() throws {
        for family in Fixtures.families {
            let dir = Fixtures.path("families/\(family)")
            let native = try contents(try convert(dir, to: "\(family)-n", layout: "native", model: family))
            let keras = try convert(dir, to: "\(family)-k", layout: "keras", model: family)
            let again = try convert(keras, to: "\(family)-kn", layout: "native", model: family)
            XCTAssertEqual(try contents(again), native, family)
            let kk = try convert(
                dir + "/model.weights.h5", to: "\(family)-kk", layout: "keras", model: family,
                config: dir + "/config.json")
            XCTAssertEqual(
                try contents(kk + "/model.h5").filter { !$0.key.hasPrefix("Embedding-Relative-Position/") }.values.map {
                    $0
                }.count,
                try contents(dir + "/model.weights.h5").filter { !$0.key.hasPrefix("Embedding-Relative-Position/") }
                    .count, family)
            XCTAssertEqual(try layers(kk + "/model.h5").names, try layers(dir + "/model.weights.h5").names, family)
        }
    }

    /// Keras splits name lists over HDF5's 64 KB header limit into `layer_names0`, `layer_names1`...;
    /// the writer does so and the reader joins them.
    func testLongNameListsAreChunked() throws {
        let layers = (0..<1500).map { i in
            KerasLayerEntry(
                name: "Layer-\(i)-" + String(repeating: "x", count: 40),
                weights: [KerasWeightEntry(name: "Layer-\(i)/kernel:0", dtype: .float32, shape: [2], key: "w\(i)")])
        }
        let path = scratch + "/big.h5"
        let offsets = try KerasH5Writer.create(path: path, layers: layers)
        XCTAssertEqual(offsets.count, 1500)
        let reader = try KerasH5Reader(path: path)
        XCTAssertEqual(reader.layerNames, layers.map(\.name))
        XCTAssertEqual(reader.tensors.count, 1500)
    }

    /// A family without a Keras graph, or weights of a layer the model lacks, are refused by name.
    func testIncompleteLayersAreRefused() throws {
        var options = PlanOptions()
        options.targetLayout = "keras"
        let setup = try ConversionSetup(
            sourcePath: Fixtures.path("families/bert"), model: nil, configPath: nil, options: options)
        let partial = ConversionPlan(
            family: "bert", sourceLayout: "tf", targetLayout: "keras", layerCount: setup.plan.layerCount,
            outputs: setup.plan.outputs.filter { $0.name != "Embedding-Norm#1" }, dropped: [], unmapped: [])
        XCTAssertThrowsError(
            try KerasModelLayout.layers(for: partial, table: setup.table, config: setup.config, file: "x")
        ) { e in
            XCTAssertTrue("\(e)".contains("Embedding-Norm"), "\(e)")
        }
    }
}
