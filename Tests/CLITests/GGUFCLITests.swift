import CkptCore
import CkptFormats
import CkptTestSupport
import Foundation
import XCTest

/// GGUF files against llama.cpp's own converter (`Fixtures/gguf`, made by `convert_hf_to_gguf.py`
/// of llama-cpp-python 0.3.36 and read back with the `gguf` package): ckpt reads the reference
/// files as gguf-py does, and writes the same files from the Hub folder, its `.bin` and the TF
/// checkpoint, in every file type.
final class GGUFCLITests: ScratchTestCase {
    static let golden = Fixtures.path("gguf/golden.json")
    static let fileTypes = [("float32", "f32"), ("float16", "f16"), ("bfloat16", "bf16"), ("q8_0", "q8_0")]
    /// Informational keys the converter takes from the folder's name; llama.cpp does not read them.
    static let informational: Set<String> = ["general.name"]

    func cases() throws -> [String] {
        let cases = try XCTUnwrap(try Fixtures.json(Self.golden)["cases"] as? [String: Any])
        XCTAssertEqual(Set(cases.keys), ["bert", "gpt2", "t5", "t5v11", "mt5", "t5encoder"])
        return cases.keys.sorted()
    }

    /// Every key, value type and value, every tensor's type, dimensions, size and data offset of
    /// the 24 reference files, as the gguf package lists them.
    func testReferenceFilesReadAsTheGGUFPackageReadsThem() throws {
        for c in try cases() {
            let listing = try Fixtures.json(Fixtures.path("gguf/\(c)/reference.json"))
            let files = try XCTUnwrap(listing["files"] as? [String: [String: Any]])
            XCTAssertEqual(files.count, 4)
            for (name, expected) in files {
                let reader = try GGUFReader(path: Fixtures.path("gguf/\(c)/\(name)"))
                let kv = try XCTUnwrap(expected["kv"] as? [[String: Any]])
                XCTAssertEqual(reader.header.metadata.map(\.key), kv.map { $0["key"] as! String }, "\(c)/\(name)")
                for (entry, (key, value)) in zip(kv, reader.header.metadata) {
                    XCTAssertTrue(Self.matches(value, entry), "\(c)/\(name) \(key): \(value.summary) vs \(entry)")
                }
                let tensors = try XCTUnwrap(expected["tensors"] as? [[String: Any]])
                XCTAssertEqual(reader.header.tensors.map(\.name), tensors.map { $0["name"] as! String })
                for (t, e) in zip(reader.header.tensors, tensors) {
                    XCTAssertEqual(t.type.name, e["type"] as? String, "\(c)/\(name) \(t.name)")
                    XCTAssertEqual(t.dimensions, e["ne"] as? [Int], "\(c)/\(name) \(t.name)")
                    XCTAssertEqual(t.byteCount, e["n_bytes"] as? Int, "\(c)/\(name) \(t.name)")
                    XCTAssertEqual(reader.header.dataStart + t.offset, e["data_offset"] as? Int, "\(c)/\(name)")
                }
            }
        }
    }

    /// A value and gguf-py's listing of it: the same type and the same value (arrays of bytes,
    /// listed by count and hash, by count).
    static func matches(_ value: GGUFValue, _ entry: [String: Any]) -> Bool {
        guard entry["type"] as? String == value.type.name else { return false }
        guard case .array(let itemType, let items) = value else { return scalarMatches(value, entry["value"]) }
        guard let a = entry["value"] as? [String: Any], a["item_type"] as? String == itemType.name,
            a["count"] as? Int == items.count
        else { return false }
        guard let values = a["values"] as? [Any] else { return a["sha256"] != nil }
        return values.count == items.count && zip(items, values).allSatisfy { scalarMatches($0, $1) }
    }

    static func scalarMatches(_ value: GGUFValue, _ expected: Any?) -> Bool {
        switch value {
        case .string: return value.stringValue == expected as? String
        case .bool(let b):
            return (expected as? NSNumber).map { $0.boolValue == b && !($0 is Int && $0.intValue > 1) } ?? false
        case .float32(let f): return (expected as? Double).map { Float($0) == f } ?? false
        case .float64(let d): return expected as? Double == d
        default: return value.integer != nil && value.integer == expected as? Int
        }
    }

    /// From the Hub folder (safetensors), its `pytorch_model.bin` and the TF checkpoint, in f32,
    /// f16, bf16 and q8_0: the file llama.cpp's converter writes from the Hub folder — every
    /// key but the name in value and type, every tensor's name, type, shape and bytes.
    func testEverySourceAndFileTypeGivesTheReferenceFile() throws {
        var compared = 0
        for c in try cases() {
            for source in ["hub", "hub/pytorch_model.bin", "tf"] {
                for (dtype, suffix) in Self.fileTypes {
                    let out = scratch + "/\(c)-\(compared)"
                    let r = try CLI.run([
                        "convert", Fixtures.path("gguf/\(c)/\(source)"), "--to", out, "--layout", "gguf", "--dtype",
                        dtype, "-q",
                    ])
                    XCTAssertEqual(r.status, 0, "\(c) \(source) \(dtype): \(r.stderr)")
                    guard r.status == 0 else { continue }
                    try Self.assertSame(
                        out + "/model.gguf", Fixtures.path("gguf/\(c)/reference.\(suffix).gguf"),
                        "\(c) \(source) \(dtype)")
                    compared += 1
                }
            }
        }
        XCTAssertEqual(compared, 72)
    }

    static func assertSame(_ ours: String, _ reference: String, _ what: String) throws {
        let a = try GGUFReader(path: ours), b = try GGUFReader(path: reference)
        let keysA = a.header.metadata.filter { !informational.contains($0.key) }
        let keysB = b.header.metadata.filter { !informational.contains($0.key) }
        XCTAssertEqual(Set(keysA.map(\.key)), Set(keysB.map(\.key)), what)
        for (key, value) in keysB {
            XCTAssertEqual(a.header.value(key), value, "\(what): \(key)")
        }
        XCTAssertEqual(Set(a.header.tensors.map(\.name)), Set(b.header.tensors.map(\.name)), what)
        let mine = try MappedFile(path: ours), theirs = try MappedFile(path: reference)
        for t in b.header.tensors {
            guard let u = a.header.tensors.first(where: { $0.name == t.name }) else { continue }
            XCTAssertEqual(u.type, t.type, "\(what): \(t.name)")
            XCTAssertEqual(u.dimensions, t.dimensions, "\(what): \(t.name)")
            guard u.byteCount == t.byteCount else { continue }
            let x = try mine.slice(offset: a.header.dataStart + u.offset, count: u.byteCount)
            let y = try theirs.slice(offset: b.header.dataStart + t.offset, count: t.byteCount)
            XCTAssertTrue(x.elementsEqual(y), "\(what): \(t.name) bytes differ")
        }
    }

    /// ckpt's forward pass on the reference f32 files (read as a source) against llama.cpp's own
    /// per-token outputs on them (`llama.npz`): within llama.cpp's distance from transformers on
    /// the same ids (~1e-3: its KV cache is float16), far below what a misread tensor gives (~1).
    func testForwardOnAGGUFFileGivesLlamaCppsHiddenStates() throws {
        for (c, output) in [("bert", "hidden"), ("t5encoder", "encoder_hidden")] {
            let listing = try Fixtures.json(Fixtures.path("gguf/\(c)/llama.json"))
            let ids = try XCTUnwrap((listing["ids"] as? [String: [[Int]]])?["f32"])
            let golden = try NPZReader(path: Fixtures.path("gguf/\(c)/llama.npz"))
            for (k, sentence) in ids.enumerated() {
                let out = scratch + "/\(c)-\(k).npz"
                let tokens = sentence.map(String.init).joined(separator: ",")
                let r = try CLI.run([
                    "forward", Fixtures.path("gguf/\(c)/reference.f32.gguf"), "--tokens", tokens, "--output", out, "-q",
                ])
                XCTAssertEqual(r.status, 0, "\(c) \(k): \(r.stderr)")
                guard r.status == 0 else { continue }
                let ours = try NPZReader(path: out)
                let got = try ours.withBytes(of: try ours.tensor(named: output)) {
                    Array($0.bindMemory(to: Float.self))
                }
                let expected = try golden.withBytes(of: try golden.tensor(named: "f32/s\(k)")) {
                    Array($0.bindMemory(to: Float.self))
                }
                XCTAssertEqual(got.count, expected.count, "\(c) \(k)")
                let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertLessThan(worst, 3e-3, "\(c) sentence \(k)")
            }
        }
    }

    /// Families llama.cpp has no architecture for, and q8_0 outside GGUF: bad usage (exit 2),
    /// one line naming what llama.cpp runs; a missing vocabulary: bad input naming the files.
    func testWhatGGUFCannotHoldIsRefusedBeforeWriting() throws {
        let nezha = try CLI.run([
            "convert", Fixtures.path("families/nezha"), "--to", scratch + "/n", "--layout", "gguf",
        ])
        XCTAssertEqual(nezha.status, 2, nezha.stderr)
        XCTAssertTrue(nezha.stderr.contains("llama.cpp runs bert, gpt2, t5"), nezha.stderr)
        XCTAssertEqual(nezha.stderr.split(separator: "\n").count, 1, nezha.stderr)
        let q8 = try CLI.run(["convert", Fixtures.path("families/bert"), "--to", scratch + "/q", "--dtype", "q8_0"])
        XCTAssertEqual(q8.status, 2, q8.stderr)
        let noVocab = try CLI.run([
            "convert", Fixtures.path("hub/gpt2_lmhead"), "--to", scratch + "/g", "--layout", "gguf",
        ])
        XCTAssertEqual(noVocab.status, 1, noVocab.stderr)
        XCTAssertTrue(noVocab.stderr.contains("vocab.json"), noVocab.stderr)
        for out in ["/n", "/q", "/g"] { XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + out)) }
    }
}
