import CkptCore
import CkptFormats
import CkptTestSupport
import XCTest

/// Where the safetensors writer starts the data: on a page for small files; for 1 MiB and more,
/// in the same phase modulo 64 KiB as the source bytes the kernel will copy (page-cache folios
/// then move whole); and the padded file still reads back.
final class SafetensorsLayoutTests: ScratchTestCase {
    func dataStart(_ header: [UInt8]) -> Int { 8 + header.count }

    func testSmallDataStartsOnAPage() {
        let entries = [SafetensorsEntry(name: "a", dtype: .float32, shape: [3, 5])]
        for phase in [0, 4096, 12345] {
            let header = SafetensorsWriter.header(entries, metadata: ["format": "pt"], dataBytes: 60, dataPhase: phase)
            XCTAssertEqual(dataStart(header) % 4096, 0)
            XCTAssertLessThanOrEqual(dataStart(header), 4096)
        }
    }

    func testLargeDataFollowsTheSourcePhase() {
        let entries = (0..<40).map { SafetensorsEntry(name: "layer.\($0).weight", dtype: .float32, shape: [256, 256]) }
        let bytes = entries.reduce(0) { $0 + $1.byteCount }
        for (phase, expected) in [(0, 0), (24576, 24576), (65536 + 8192, 8192), (4097, 4096), (5 * 65536 + 100, 0)] {
            let header = SafetensorsWriter.header(entries, metadata: [:], dataBytes: bytes, dataPhase: phase)
            XCTAssertEqual(dataStart(header) % 65536, expected, "phase \(phase)")
            XCTAssertLessThan(dataStart(header), 65536 + 4096 + 8, "no more than one period of padding")
            let json = String(decoding: header, as: UTF8.self)
            XCTAssertTrue(json.trimmingCharacters(in: .whitespaces).hasSuffix("}"), "padding is trailing spaces")
        }
    }

    func testPaddedFileReadsBack() throws {
        let entries = [SafetensorsEntry(name: "w", dtype: .float32, shape: [512, 1024])]
        let values = (0..<(512 * 1024)).map { Float($0 % 977) * 0.5 }
        let path = scratch + "/m.safetensors"
        let writer = try SafetensorsWriter(
            path: path, entries: entries, metadata: ["format": "pt"], dataPhase: 3 * 4096)
        try values.withUnsafeBytes { try writer.append($0) }
        try writer.finish()
        let source = try SafetensorsReader(path: path)
        let t = try source.tensor(named: "w")
        XCTAssertEqual(t.shape, [512, 1024])
        try source.withBytes(of: t) { raw in
            XCTAssertEqual(Array(raw.bindMemory(to: Float.self)), values)
        }
    }
}
