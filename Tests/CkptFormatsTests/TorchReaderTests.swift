import CkptCore
import CkptTestSupport
import Foundation
import XCTest

@testable import CkptFormats

/// The PyTorch reader against files `torch.save` wrote (Fixtures/torch, part torch_format of
/// Fixtures/generate.py) and the values the safetensors library wrote from the same tensors.
final class TorchReaderTests: XCTestCase {
    /// Every key of the edge-case state dict (strided views, offsets, shared storages, every dtype,
    /// a scalar, an empty tensor, a Parameter), in the zip and the legacy format: dtype, shape and
    /// bytes equal the contiguous copies torch handed to safetensors.
    func testEdgeCasesMatchTorchsOwnValues() throws {
        let golden = try Fixtures.json(Fixtures.path("torch/edge.golden.json"))
        let values = try SafetensorsReader(path: Fixtures.path("torch/edge.golden.safetensors"))
        let files = try XCTUnwrap(golden["files"] as? [String: Any])
        XCTAssertGreaterThanOrEqual(files.count, 2)
        for (file, entry) in files.sorted(by: { $0.key < $1.key }) {
            let listing = try XCTUnwrap((entry as? [String: Any])?["tensors"] as? [[String: Any]], file)
            let source = try CheckpointOpener.open(Fixtures.path("torch/" + file))
            XCTAssertEqual(source.formatName, "pytorch", file)
            XCTAssertEqual(source.tensors.map(\.name), listing.map { $0["name"] as! String }, file)
            for t in source.tensors {
                let expected = try values.tensor(named: t.name)
                XCTAssertEqual(t.dtype, expected.dtype, "\(file) \(t.name)")
                XCTAssertEqual(t.shape, expected.shape, "\(file) \(t.name)")
                let ours = try source.withBytes(of: t) { Array($0) }
                let theirs = try values.withBytes(of: expected) { Array($0) }
                XCTAssertEqual(ours, theirs, "\(file) \(t.name)")
                if let range = source.storedRange(of: t) {
                    let mapped = try MappedFile(path: range.path)
                    let bytes = Array(try mapped.slice(offset: range.offset, count: range.count))
                    withExtendedLifetime(mapped) {}
                    XCTAssertEqual(bytes, theirs, "\(file) \(t.name): stored range")
                }
            }
        }
    }

    /// Keys pickled as one object (a tied weight saved twice) are listed as aliases, and views
    /// of one storage that differ (a transpose, a slice) are not.
    func testAliasesAreTheKeysTorchPickledAsOneObject() throws {
        let golden = try Fixtures.json(Fixtures.path("torch/edge.golden.json"))
        let files = try XCTUnwrap(golden["files"] as? [String: Any])
        for (file, entry) in files.sorted(by: { $0.key < $1.key }) {
            let listing = try XCTUnwrap((entry as? [String: Any])?["tensors"] as? [[String: Any]])
            var expected: [String: String] = [:]
            var firstOfView: [String: String] = [:]
            for t in listing {
                let view = "\(t["storage_key"]!)|\(t["storage_offset"]!)|\(t["shape"]!)|\(t["stride"]!)"
                if let owner = firstOfView[view] {
                    expected[t["name"] as! String] = owner
                } else {
                    firstOfView[view] = t["name"] as? String
                }
            }
            XCTAssertFalse(expected.isEmpty, "\(file): the fixture holds an alias")
            XCTAssertEqual(try CheckpointOpener.open(Fixtures.path("torch/" + file)).aliases, expected, file)
        }
    }

    /// Pickles that would run code (os.system, eval), an unsupported storage class, a cut zip and
    /// a storage shorter than its tensors: refused with the offending global named, nothing run.
    func testHostileFilesAreRefusedWithoutRunningAnything() throws {
        let readme = try Fixtures.json(Fixtures.path("torch/hostile/README.json"))
        let marker = try XCTUnwrap(readme["marker_file"] as? String)
        try? FileManager.default.removeItem(atPath: marker)
        let cases = try XCTUnwrap(readme["files"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 6)
        for c in cases {
            let file = c["file"] as! String
            do {
                let source = try CheckpointOpener.open(Fixtures.path("torch/hostile/" + file))
                for t in source.tensors { _ = try source.withBytes(of: t) { $0.count } }
                XCTFail("\(file): read without an error")
            } catch let e as CkptError {
                XCTAssertFalse(e.description.contains("\n"), "\(file): one line: \(e)")
                if let g = c["offending_global"] as? [String: String] {
                    XCTAssertTrue(e.description.contains("\(g["module"]!).\(g["name"]!)"), "\(file): \(e)")
                }
                if let entry = c["storage_entry"] as? String {
                    XCTAssertTrue(e.description.contains(entry), "\(file): \(e)")
                }
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "a pickle ran code")
    }

    /// The unpickler refuses every global outside its list, wherever it appears, and stops at
    /// a stream that nests or repeats without end.
    func testUnpicklerRefusesGlobalsAndBoundsItsWork() throws {
        func load(_ bytes: [UInt8]) throws -> PickleValue {
            try bytes.withUnsafeBytes { b in
                var u = RestrictedUnpickler(b, file: "test.pkl", member: "data.pkl")
                return try u.load()
            }
        }
        let global: [UInt8] = [0x80, 0x02] + Array("csubprocess\nPopen\n)R.".utf8)
        func message(_ e: any Error) -> String { (e as? CkptError)?.description ?? "" }
        XCTAssertThrowsError(try load(global)) { XCTAssertTrue(message($0).contains("subprocess.Popen"), message($0)) }
        // 100,000 nested one-tuples: containers live in the heap, so neither building nor
        // dropping them recurses.
        let deep = [0x80, 0x02, 0x4e] + [UInt8](repeating: 0x85, count: 100_000) + [0x2e]
        XCTAssertNoThrow(try load(deep))
        // 200,000 single appends to one memoized list: in place (this finishes in milliseconds).
        var appends: [UInt8] = [0x80, 0x02, 0x5d, 0x71, 0x00]
        for _ in 0..<200_000 { appends += [0x4e, 0x61] }
        appends.append(0x2e)
        XCTAssertNoThrow(try load(appends))
        XCTAssertThrowsError(try load([0x80, 0x02, 0x28])) { XCTAssertTrue(message($0).contains("before STOP")) }
    }
}
