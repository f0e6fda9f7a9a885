import CkptCore
@testable import CkptFormats
@testable import CkptMappings
import CkptTestSupport
import Foundation
import XCTest

/// The TF bundle writer, read back by ckpt's own reader (TensorFlow reads it too: see the closing
/// note and, in CI later, the interop test).
final class TFWriterTests: ScratchTestCase {
    func convert(_ source: String, to name: String, layout: Layout, model: String? = nil, maxShardSize: Int? = nil)
        throws -> String
    {
        var options = PlanOptions()
        options.targetLayout = layout
        let setup = try ConversionSetup(sourcePath: source, model: model, configPath: nil, options: options)
        var write = try setup.standardWriteOptions(sourcePath: source)
        write.container = layout == "tf" ? .tfBundle : .safetensors
        write.maxShardSize = maxShardSize
        let out = scratch + "/" + name
        _ = try Converter.run(setup.plan, source: setup.source, to: out, options: write)
        return out
    }

    func contents(_ path: String) throws -> [String: [UInt8]] {
        let r = try CheckpointOpener.open(path)
        return Dictionary(
            uniqueKeysWithValues: try r.tensors.map { t in (t.name, try r.withBytes(of: t) { Array($0) }) })
    }

    /// tf → native → tf gives TensorFlow's names and bytes back; keras → tf equals the TF fixture.
    func testRoundTripsThroughTheTFWriter() throws {
        for family in Fixtures.families where family != "albert_unshared" {
            let dir = Fixtures.path("families/\(family)")
            let original = try contents(dir)
            let native = try convert(dir, to: "\(family)-native", layout: "native")
            let back = try contents(try convert(native, to: "\(family)-tf", layout: "tf"))
            XCTAssertEqual(Set(back.keys), Set(original.keys), family)
            for (k, v) in original { XCTAssertEqual(back[k], v, "\(family) \(k)") }
            let fromKeras = try contents(try convert(dir + "/model.weights.h5", to: "\(family)-keras-tf", layout: "tf"))
            XCTAssertEqual(Set(fromKeras.keys), Set(original.keys), family)
            for (k, v) in original { XCTAssertEqual(fromKeras[k], v, "\(family) keras \(k)") }
        }
    }

    func testShardedBundleAndStateFile() throws {
        let out = try convert(Fixtures.path("families/bert"), to: "sharded", layout: "tf", maxShardSize: 4096)
        let reader = try TFBundleReader(path: out)
        XCTAssertGreaterThan(reader.numShards, 3)
        XCTAssertEqual(try contents(out), try contents(Fixtures.path("families/bert")))
    }

    /// native → hf → native is the identity.
    func testHFRoundTripIsTheIdentity() throws {
        for family in ["bert", "albert", "electra", "nezha", "t5.1.0", "t5.1.1"] {
            let native = try convert(Fixtures.path("families/\(family)"), to: "\(family)-n", layout: "native")
            let hf = try convert(native, to: "\(family)-hf", layout: "hf")
            let again = try convert(hf, to: "\(family)-n2", layout: "native", model: family)
            XCTAssertEqual(try contents(again), try contents(native), family)
        }
    }

    /// The writer's table holds many blocks when the index is large (restart points, separators).
    func testLargeIndexRoundTrip() throws {
        var entries: [(key: [UInt8], value: [UInt8])] = [([], Array("header".utf8))]
        for i in 0..<3000 {
            entries.append((Array(String(format: "layer_%05d/kernel", i).utf8), Array("value \(i)".utf8)))
        }
        let bytes = SSTableWriter.table(entries)
        let path = scratch + "/big.index"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let table = try SSTable(file: MappedFile(path: path))
        XCTAssertEqual(table.entries.map(\.key), entries.map(\.key))
        XCTAssertEqual(table.entries.map { Array($0.value) }, entries.map(\.value))
    }
}

extension TFWriterTests {
    /// TF → TF copies untouched tensors by the kernel with their stored CRC32C, verified first:
    /// a damaged source byte fails the run and leaves nothing.
    func testTFToTFCopiesAreVerified() throws {
        for family in ["bert", "t5.1.1"] {
            let out = try convert(Fixtures.path("families/\(family)"), to: "\(family)-tf2tf", layout: "tf")
            XCTAssertEqual(try contents(out), try contents(Fixtures.path("families/\(family)")), family)
        }
        let copy = try Fixtures.scratchCopy(of: Fixtures.path("families/bert"))
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let data = copy + "/model.ckpt.data-00000-of-00001"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: data))
        bytes[100] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: data))
        XCTAssertThrowsError(try convert(copy, to: "damaged", layout: "tf")) { e in
            XCTAssertEqual((e as? CkptError)?.kind, .checksumMismatch)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/damaged"))
    }
}
