import CKernels
@testable import CkptMappings
import XCTest

/// The tiled transpose (AVX 8 × 8 blocks, the portable path, ragged edges) and the strips a
/// conversion streams, against the definition, for every element size.
final class TransposeTests: XCTestCase {
    static let shapes = [(1, 1), (3, 5), (4, 4), (7, 130), (65, 67), (128, 64), (129, 3), (9, 300), (300, 17)]

    static func definition(_ src: [UInt8], rows: Int, cols: Int, item: Int) -> [UInt8] {
        var want = [UInt8](repeating: 0, count: src.count)
        for r in 0..<rows {
            for c in 0..<cols {
                for b in 0..<item { want[(c * rows + r) * item + b] = src[(r * cols + c) * item + b] }
            }
        }
        return want
    }

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) } }

    func testTransposeMatchesTheDefinition() {
        for vectors: Int32 in [1, 0] {
            _ = ckpt_kernels_use_vectors(vectors)
            defer { _ = ckpt_kernels_use_vectors(1) }
            for (rows, cols) in Self.shapes {
                for item in [1, 2, 3, 4, 8] {
                    let src = Self.bytes(rows * cols * item)
                    let got = src.withUnsafeBytes { TensorAssembly.transpose($0, rows: rows, cols: cols, item: item) }
                    let want = Self.definition(src, rows: rows, cols: cols, item: item)
                    XCTAssertEqual(got, want, "\(rows)×\(cols)×\(item)")
                }
            }
        }
    }

    /// Strips of whole output rows, concatenated, are the transpose (strips narrower than the
    /// matrix: tall sources, whose output rows are long).
    func testStreamedStripsAreTheTranspose() throws {
        for (rows, cols) in Self.shapes + [(3000, 300), (5, 140_000)] {
            let src = Self.bytes(rows * cols * 4)
            var got: [UInt8] = []
            var strips = 0
            try src.withUnsafeBytes { s in
                try TensorAssembly.streamTransposed(s, rows: rows, cols: cols) {
                    got.append(contentsOf: $0)
                    strips += 1
                }
            }
            XCTAssertEqual(got, Self.definition(src, rows: rows, cols: cols, item: 4), "\(rows)×\(cols)")
            if rows * cols * 4 > 4 * TensorAssembly.stripBytes { XCTAssertGreaterThan(strips, 1, "\(rows)×\(cols)") }
        }
    }
}
