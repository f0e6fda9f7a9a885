import CkptCore
@testable import CkptFormats
import Foundation
import CkptTestSupport
import XCTest

/// Damaged bundles: every case must end in a typed error naming the file, never a crash or hang.
final class TFBundleBadInputTests: XCTestCase {
    var dir = ""
    var index: String { dir + "/model.ckpt.index" }
    var data: String { dir + "/model.ckpt.data-00000-of-00001" }

    override func setUpWithError() throws {
        dir = try Fixtures.scratchCopy(of: Fixtures.path("families/bert"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testIndexTruncatedAnywhereIsAnError() throws {
        let original = Damage.read(index)
        for cut in stride(from: 0, to: original.count, by: 5) {
            Damage.write(Array(original[..<cut]), to: index)
            let e = Damage.expectError("index cut at \(cut)") { _ = try TFBundleReader(prefix: dir + "/model.ckpt") }
            XCTAssertEqual(e?.file, index, "cut at \(cut)")
        }
    }

    /// Every fixture bundle: index and each data shard cut at many offsets, then a byte flipped
    /// in each data shard: opening or reading fails with a CkptError, never a crash.
    func testEveryFixtureBundleCutOrFlippedIsAnError() throws {
        for golden in Fixtures.goldens(named: "golden.tf.json") {
            let json = try Fixtures.json(golden)
            let source = (golden as NSString).deletingLastPathComponent
            let copy = try Fixtures.scratchCopy(of: source)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            let prefix = copy + "/" + (json["prefix"] as! String)
            let files = [json["index_file"] as! String] + (json["data_files"] as! [String])
            for name in files {
                let path = copy + "/" + name
                let original = Damage.read(path)
                for cut in stride(from: 0, to: original.count, by: max(1, original.count / 25)) {
                    Damage.write(Array(original[..<cut]), to: path)
                    _ = Damage.expectError("\(name) cut at \(cut)") {
                        try Damage.readAll(TFBundleReader(prefix: prefix))
                    }
                }
                if name.hasSuffix(".index") || original.isEmpty {
                    Damage.write(original, to: path)
                    continue
                }
                var flipped = original
                flipped[original.count / 2] ^= 0x20
                Damage.write(flipped, to: path)
                let e = Damage.expectError("\(name) flipped") { try Damage.readAll(TFBundleReader(prefix: prefix)) }
                XCTAssertEqual(e?.kind, .checksumMismatch, "\(name)")
                Damage.write(original, to: path)
            }
        }
    }

    func testDataShardTruncatedIsOutOfBounds() throws {
        let original = Damage.read(data)
        for cut in stride(from: 0, to: original.count, by: max(1, original.count / 40)) {
            Damage.write(Array(original[..<cut]), to: data)
            let reader = try TFBundleReader(prefix: dir + "/model.ckpt")
            let e = Damage.expectError("data cut at \(cut)") { try Damage.readAll(reader) }
            XCTAssertEqual(e?.kind, .outOfBounds, "cut at \(cut)")
            XCTAssertEqual(e?.file, data)
            XCTAssertNotNil(e?.tensor)
        }
    }

    func testFlippedDataByteIsAChecksumMismatchNamingTheTensor() throws {
        let original = Damage.read(data)
        for at in stride(from: 0, to: original.count, by: max(1, original.count / 60)) {
            var bytes = original
            bytes[at] ^= 0x40
            Damage.write(bytes, to: data)
            let reader = try TFBundleReader(prefix: dir + "/model.ckpt")
            let e = Damage.expectError("flip at \(at)") { try Damage.readAll(reader) }
            XCTAssertEqual(e?.kind, .checksumMismatch, "flip at \(at)")
            XCTAssertNotNil(e?.tensor)
        }
    }

    func testFlippedIndexByteIsDetected() throws {
        let original = Damage.read(index)
        let listing = try TFBundleReader(prefix: dir + "/model.ckpt").tensors
        var detected = 0
        for at in 0..<original.count {
            var bytes = original
            bytes[at] ^= 0x01
            Damage.write(bytes, to: index)
            do {
                let r = try TFBundleReader(prefix: dir + "/model.ckpt")
                // Only the footer's zero padding is not covered by a checksum; nothing may change.
                XCTAssertEqual(r.tensors, listing, "flip at \(at) went unnoticed and changed the listing")
                XCTAssertGreaterThanOrEqual(at, original.count - 48, "flip at \(at) outside the footer went unnoticed")
            } catch is CkptError {
                detected += 1
            }
        }
        XCTAssertGreaterThan(detected, original.count - 48)
    }

    func testSnappyBlockIsRefusedNotMisread() throws {
        var bytes = Damage.read(index)
        let blocks = Damage.blocks(ofIndex: bytes)
        let (o, s) = blocks.data[0]
        bytes[o + s] = 1  // compression type: kSnappyCompression
        Damage.resealBlock(&bytes, offset: o, size: s)
        Damage.write(bytes, to: index)
        let e = Damage.expectError("snappy") { _ = try TFBundleReader(prefix: dir + "/model.ckpt") }
        XCTAssertEqual(e?.kind, .unsupported)
        XCTAssertTrue(e?.detail.contains("snappy") ?? false, e?.description ?? "")
    }

    func testUnknownDTypeIsNamed() throws {
        var bytes = Damage.read(index)
        let (o, s) = Damage.blocks(ofIndex: bytes).data[0]
        // The first tensor entry after the header: its value starts with field 1 (dtype), tag 0x08.
        // Find "bert/embeddings/LayerNorm/beta" and the 0x08 0x01 that follows it.
        let key = Array("bert/embeddings/LayerNorm/beta".utf8)
        let start = (o..<(o + s)).first { Array(bytes[$0..<($0 + key.count)]) == key }!
        let tag = (start + key.count..<(o + s)).first { bytes[$0] == 0x08 && bytes[$0 + 1] == 0x01 }!
        bytes[tag + 1] = 99
        Damage.resealBlock(&bytes, offset: o, size: s)
        Damage.write(bytes, to: index)
        let e = Damage.expectError("dtype 99") { _ = try TFBundleReader(prefix: dir + "/model.ckpt") }
        XCTAssertEqual(e?.kind, .unknownDType)
        XCTAssertEqual(e?.tensor, "bert/embeddings/LayerNorm/beta")
    }

    func testInvalidUTF8NameIsAnError() throws {
        var bytes = Damage.read(index)
        let blocks = Damage.blocks(ofIndex: bytes)
        let (o, s) = blocks.data.last!
        // The last key of the table (cls/seq_relationship/output_weights), stored after the
        // prefix it shares: replacing its last byte by 0xFF keeps the order but is not UTF-8.
        let key = Array("weights".utf8)
        let start = (o..<(o + s)).last { $0 + key.count <= o + s && Array(bytes[$0..<($0 + key.count)]) == key }
        let pos = try XCTUnwrap(start) + key.count - 1
        bytes[pos] = 0xff
        Damage.resealBlock(&bytes, offset: o, size: s)
        Damage.write(bytes, to: index)
        let e = Damage.expectError("invalid UTF-8") { _ = try TFBundleReader(prefix: dir + "/model.ckpt") }
        XCTAssertEqual(e?.kind, .invalidName)
    }

    func testMissingFilesAreNamed() throws {
        let e1 = Damage.expectError("missing prefix") { _ = try CheckpointOpener.open(dir + "/nothing.ckpt") }
        XCTAssertEqual(e1?.kind, .fileNotFound)
        try FileManager.default.removeItem(atPath: data)
        let reader = try TFBundleReader(prefix: dir + "/model.ckpt")
        let e2 = Damage.expectError("missing shard") { try Damage.readAll(reader) }
        XCTAssertEqual(e2?.kind, .fileNotFound)
        XCTAssertEqual(e2?.file, data)
    }

    func testWrongMagicIsAnError() throws {
        var bytes = Damage.read(index)
        bytes[bytes.count - 1] ^= 0xff
        Damage.write(bytes, to: index)
        let e = Damage.expectError("magic") { _ = try TFBundleReader(prefix: dir + "/model.ckpt") }
        XCTAssertEqual(e?.kind, .badMagic)
    }
}
