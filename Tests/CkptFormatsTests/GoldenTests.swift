import CkptCore
@testable import CkptFormats
import Foundation
import CkptTestSupport
import XCTest

/// Every reader against the listings TensorFlow, h5py, safetensors and NumPy made of the same files.
final class GoldenTests: XCTestCase {
    func testEveryTFCheckpointMatchesTensorFlowsListing() throws {
        let goldens = Fixtures.goldens(named: "golden.tf.json")
        XCTAssertGreaterThanOrEqual(goldens.count, Fixtures.families.count + 4)
        for g in goldens {
            let json = try Fixtures.json(g)
            let dir = (g as NSString).deletingLastPathComponent
            let prefix = dir + "/" + (json["prefix"] as! String)
            let reader = try TFBundleReader(prefix: prefix)
            let golden = (json["variables"] as! [[String: Any]]).map(GoldenTensor.init)
            try assertMatchesGolden(reader, golden)
        }
    }

    func testEveryFamilyHasBothFormats() throws {
        for family in Fixtures.families {
            let dir = Fixtures.path("families/\(family)")
            XCTAssertNoThrow(try TFBundleReader(path: dir), family)
            XCTAssertNoThrow(try KerasH5Reader(path: dir + "/model.weights.h5"), family)
        }
    }

    func testEveryKerasFileMatchesH5pysListing() throws {
        let goldens = Fixtures.goldens(named: "golden.h5.json")
        XCTAssertGreaterThanOrEqual(goldens.count, Fixtures.families.count + 1)
        for g in goldens {
            let json = try Fixtures.json(g)
            let dir = (g as NSString).deletingLastPathComponent
            let file =
                dir + "/"
                + (json["file"] as? String
                    ?? (json["kind"] as? String == "full_model" ? "model.h5" : "model.weights.h5"))
            let reader = try KerasH5Reader(path: file)
            XCTAssertEqual(reader.kind, json["kind"] as? String, file)
            XCTAssertEqual(reader.layerNames, json["layer_names"] as? [String], file)
            XCTAssertEqual(reader.kerasVersion, json["keras_version"] as? String, file)
            let weights = json["weights"] as! [[String: Any]]
            try assertMatchesGolden(reader, weights.map(GoldenTensor.init))
            for w in weights { XCTAssertEqual(reader.layer(of: w["name"] as! String), w["layer"] as? String) }
        }
    }

    func testSafetensorsMatchTheLibrarysListing() throws {
        let goldens = Fixtures.goldens(named: "golden.safetensors.json")
        XCTAssertEqual(goldens.count, 2)
        for g in goldens {
            let json = try Fixtures.json(g)
            let dir = (g as NSString).deletingLastPathComponent
            let source = try CheckpointOpener.open(dir.hasSuffix("sharded") ? dir : dir + "/model.safetensors")
            let golden = (json["tensors"] as! [[String: Any]]).map(GoldenTensor.init)
            try assertMatchesGolden(source, golden)
            if let single = source as? SafetensorsReader, let meta = json["metadata"] as? [String: String] {
                XCTAssertEqual(single.metadata, meta)
            }
        }
    }

    func testNPZMatchesNumPysListing() throws {
        let json = try Fixtures.json(Fixtures.path("special/npz/golden.npz.json"))
        let files = json["files"] as! [[String: Any]]
        XCTAssertEqual(files.count, 2)
        for f in files {
            let reader = try NPZReader(path: Fixtures.path("special/npz/" + (f["file"] as! String)))
            let arrays = f["arrays"] as! [[String: Any]]
            try assertMatchesGolden(reader, arrays.map(GoldenTensor.init))
        }
    }

    func testPartitionedVariableIsListedOnceAndReassembled() throws {
        let reader = try TFBundleReader(path: Fixtures.path("special/sharded"))
        XCTAssertGreaterThanOrEqual(reader.numShards, 2)
        // No slice keys (which start with a NUL byte) leak into the listing.
        XCTAssertFalse(reader.tensors.contains { $0.name.hasPrefix("\0") })
    }

    func testPathFormsResolveToTheSameBundle() throws {
        let dir = Fixtures.path("families/bert")
        let forms = [dir, dir + "/model.ckpt", dir + "/model.ckpt.index", dir + "/model.ckpt.data-00000-of-00001"]
        for f in forms {
            let r = try CheckpointOpener.open(f)
            XCTAssertEqual(r.formatName, "tf", f)
            XCTAssertEqual(r.path, dir + "/model.ckpt", f)
        }
    }
}
