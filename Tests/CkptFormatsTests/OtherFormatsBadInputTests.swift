import CkptCore
@testable import CkptFormats
import Foundation
import CkptTestSupport
import XCTest

/// Damaged and hostile safetensors, HDF5 and npz files.
final class OtherFormatsBadInputTests: ScratchTestCase {

    /// A safetensors file from a header text and a data length, written by hand.
    func safetensors(_ header: String, dataBytes: Int, declaredLength: UInt64? = nil) -> String {
        let h = Array(header.utf8)
        var bytes = withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian, Array.init)
        bytes += h + [UInt8](repeating: 0, count: dataBytes)
        let path = scratch + "/t-\(UUID().uuidString).safetensors"
        Damage.write(bytes, to: path)
        return path
    }

    func kind(_ path: String) -> CkptError.Kind? {
        Damage.expectError(path) { _ = try SafetensorsReader(path: path) }?.kind
    }

    func testSafetensorsValidationFollowsTheLibrary() {
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertNoThrow(try SafetensorsReader(path: safetensors(ok, dataBytes: 8)))
        XCTAssertEqual(kind(safetensors(ok, dataBytes: 8, declaredLength: 1 << 40)), .headerTooLarge)
        XCTAssertEqual(kind(safetensors(ok, dataBytes: 8, declaredLength: 5_000_000)), .truncated)
        XCTAssertEqual(kind(safetensors(ok, dataBytes: 4)), .truncated)
        XCTAssertEqual(kind(safetensors(ok, dataBytes: 12)), .malformed)
        XCTAssertEqual(kind(safetensors("[1,2]", dataBytes: 0)), .malformed)
        XCTAssertEqual(kind(safetensors("{not json", dataBytes: 0)), .malformed)
        XCTAssertEqual(
            kind(safetensors(#"{"a":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 8)), .unknownDType)
        XCTAssertEqual(
            kind(safetensors(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8)), .sizeMismatch)
        XCTAssertEqual(
            kind(safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, dataBytes: 8)), .outOfBounds)
        let gap =
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
            + #""b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        XCTAssertEqual(kind(safetensors(gap, dataBytes: 12)), .outOfBounds)
        let overlap =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        XCTAssertEqual(kind(safetensors(overlap, dataBytes: 8)), .outOfBounds)
        let huge = #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#
        XCTAssertEqual(kind(safetensors(huge, dataBytes: 8)), .sizeMismatch)
        // Invalid UTF-8 in the header.
        var bad = withUnsafeBytes(of: UInt64(4).littleEndian, Array.init) + [0x7b, 0xff, 0xfe, 0x7d]
        bad += []
        let p = scratch + "/utf8.safetensors"
        Damage.write(bad, to: p)
        XCTAssertEqual(kind(p), .malformed)
    }

    func testSafetensorsFixtureTruncatedAnywhereIsAnError() throws {
        let original = Damage.read(Fixtures.path("special/safetensors/model.safetensors"))
        let p = scratch + "/cut.safetensors"
        for cut in stride(from: 0, to: original.count, by: max(1, original.count / 80)) {
            Damage.write(Array(original[..<cut]), to: p)
            _ = Damage.expectError("cut at \(cut)") { _ = try SafetensorsReader(path: p) }
        }
    }

    func testShardIndexThatLeavesTheFolderIsRefused() throws {
        for evil in ["../model.safetensors", "/etc/passwd", "a/../../b.safetensors"] {
            let json = #"{"metadata":{},"weight_map":{"w":"\#(evil)"}}"#
            Damage.write(Array(json.utf8), to: scratch + "/model.safetensors.index.json")
            let e = Damage.expectError(evil) { _ = try ShardedReader(path: scratch) }
            XCTAssertEqual(e?.kind, .invalidName, evil)
        }
    }

    func testHDF5TruncatedIsAnError() throws {
        let original = Damage.read(Fixtures.path("families/bert/model.weights.h5"))
        let p = scratch + "/cut.h5"
        for cut in stride(from: 0, to: original.count, by: max(1, original.count / 30)) {
            Damage.write(Array(original[..<cut]), to: p)
            _ = Damage.expectError("cut at \(cut)") {
                let r = try KerasH5Reader(path: p)
                try Damage.readAll(r)
            }
        }
    }

    func testNPZDamageIsAnError() throws {
        let original = Damage.read(Fixtures.path("special/npz/model.npz"))
        let p = scratch + "/cut.npz"
        for cut in stride(from: 0, to: original.count, by: max(1, original.count / 40)) {
            Damage.write(Array(original[..<cut]), to: p)
            _ = Damage.expectError("cut at \(cut)") { try Damage.readAll(NPZReader(path: p)) }
        }
        // A flipped byte: a corrupt stream or CRC32 mismatch, or (in zip metadata that no checksum
        // covers, such as local header times) the very same values; never different values.
        Damage.write(original, to: p)
        let reference = try NPZReader(path: p)
        let expected = try reference.tensors.map { t in try reference.withBytes(of: t) { Checksum.crc32($0) } }
        var detected = 0
        for at in stride(from: 0, to: original.count, by: 7) {
            var bytes = original
            bytes[at] ^= 0x10
            Damage.write(bytes, to: p)
            do {
                let r = try NPZReader(path: p)
                let got = try r.tensors.map { t in try r.withBytes(of: t) { Checksum.crc32($0) } }
                XCTAssertEqual(got, expected, "flip at \(at) changed values without an error")
            } catch is CkptError {
                detected += 1
            }
        }
        XCTAssertGreaterThan(detected, original.count / 7 / 2)
    }

    func testUnknownFormatIsNamed() throws {
        let p = scratch + "/notes.txt"
        Damage.write(Array("hello, this is not a checkpoint".utf8), to: p)
        let e = Damage.expectError("text file") { _ = try CheckpointOpener.open(p) }
        XCTAssertEqual(e?.kind, .unknownFormat)
        XCTAssertEqual(e?.file, p)
    }
}
