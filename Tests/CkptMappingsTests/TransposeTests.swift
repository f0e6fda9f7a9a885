@testable import CkptMappings
import XCTest

/// The tiled transpose (SSE blocks and ragged edges) against the definition, for every element size.
final class TransposeTests: XCTestCase {
    func testTransposeMatchesTheDefinition() {
        for (rows, cols) in [(1, 1), (3, 5), (4, 4), (7, 130), (65, 67), (128, 64), (129, 3)] {
            for item in [1, 2, 3, 4, 8] {
                let src = (0..<(rows * cols * item)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
                let got = src.withUnsafeBytes { TensorAssembly.transpose($0, rows: rows, cols: cols, item: item) }
                var want = [UInt8](repeating: 0, count: src.count)
                for r in 0..<rows {
                    for c in 0..<cols {
                        for b in 0..<item { want[(c * rows + r) * item + b] = src[(r * cols + c) * item + b] }
                    }
                }
                XCTAssertEqual(got, want, "\(rows)×\(cols)×\(item)")
            }
        }
    }
}
