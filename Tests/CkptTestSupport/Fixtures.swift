import CkptCore
import Foundation
import XCTest

/// Locates the committed fixtures and the goldens that TensorFlow, h5py, safetensors and NumPy
/// wrote beside them (Fixtures/generate.py). Nothing here is computed by ckpt.
public enum Fixtures {
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("Fixtures/families")
            if FileManager.default.fileExists(atPath: candidate.path) {
                return url.appendingPathComponent("Fixtures").path
            }
        }
        fatalError("Fixtures/ not found above \(#filePath)")
    }()

    public static let families = [
        "bert", "albert", "albert_unshared", "nezha", "roformer", "electra", "gpt", "gpt2", "gpt2_ml",
        "t5.1.0", "t5.1.1",
    ]

    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// Every file named `name` under Fixtures/, sorted.
    public static func goldens(named name: String) -> [String] {
        let e = FileManager.default.enumerator(atPath: root)!
        var out: [String] = []
        while let p = e.nextObject() as? String {
            if !p.hasPrefix(".venv"), (p as NSString).lastPathComponent == name { out.append(root + "/" + p) }
        }
        return out.sorted()
    }

    public static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A scratch copy of a fixture folder, to damage in tests.
    public static func scratchCopy(of folder: String) throws -> String {
        let dst = NSTemporaryDirectory() + "ckpt-test-" + UUID().uuidString
        try FileManager.default.copyItem(atPath: folder, toPath: dst)
        return dst
    }
}

/// One tensor as a golden listing describes it.
public struct GoldenTensor {
    public let name: String
    public let dtype: String
    public let shape: [Int]
    public let crc32: UInt32?
    public let valuesHex: [String]?

    public init(_ d: [String: Any]) {
        name = d["name"] as! String
        dtype = d["dtype"] as! String
        shape = d["shape"] as! [Int]
        crc32 = (d["crc32"] as? NSNumber).map { UInt32($0.uint64Value) }
        valuesHex = d["values_hex"] as? [String]
    }
}

extension Array where Element == UInt8 {
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// Checks every tensor of `source` against the golden list: names in order, dtypes, shapes and
/// the CRC32 of the bytes (or the string values).
public func assertMatchesGolden(
    _ source: any TensorSource, _ golden: [GoldenTensor], file: StaticString = #filePath, line: UInt = #line
) throws {
    XCTAssertEqual(
        source.tensors.map(\.name), golden.map(\.name), "names differ for \(source.path)", file: file, line: line)
    let byName = Dictionary(uniqueKeysWithValues: source.tensors.map { ($0.name, $0) })
    for g in golden {
        guard let t = byName[g.name] else { continue }
        XCTAssertEqual(t.dtype.rawValue, g.dtype, "\(source.path): \(g.name) dtype", file: file, line: line)
        XCTAssertEqual(t.shape, g.shape, "\(source.path): \(g.name) shape", file: file, line: line)
        if let hexes = g.valuesHex {
            let values = try source.strings(of: t)
            XCTAssertEqual(values.map(\.hex), hexes, "\(source.path): \(g.name) string values", file: file, line: line)
        } else if let crc = g.crc32 {
            let actual = try source.withBytes(of: t) { Checksum.crc32($0) }
            XCTAssertEqual(actual, crc, "\(source.path): \(g.name) value checksum", file: file, line: line)
        }
    }
}
