import CKernels
import Foundation
import XCTest

/// The vectorized element-wise kernels of the forward pass against libm in double precision
/// (the goldens check them end to end; these bound the approximations themselves, over ranges
/// and lengths that exercise the 8-lane bodies and the scalar tails).
final class KernelAccuracyTests: XCTestCase {
    override func setUp() {
        super.setUp()
        if ckpt_kernels_use_vectors(1) == 0 {
            print("note: no AVX2+FMA here; the vector paths fall back to the scalar ones")
        }
    }

    func testGELUIsWithinTwoMillionthsOfErf() { KernelChecks.gelu() }
    func testMaskedSoftmaxMatchesDoublePrecision() { KernelChecks.softmax() }
    func testLayerNormWithResidualMatchesDoublePrecision() { KernelChecks.layerNorm() }
}

/// The same bounds on the portable scalar paths (what a CPU without AVX2+FMA runs).
final class ScalarKernelAccuracyTests: XCTestCase {
    override func setUp() {
        super.setUp()
        _ = ckpt_kernels_use_vectors(0)
    }

    override func tearDown() {
        _ = ckpt_kernels_use_vectors(1)
        super.tearDown()
    }

    func testGELUIsWithinTwoMillionthsOfErf() { KernelChecks.gelu() }
    func testMaskedSoftmaxMatchesDoublePrecision() { KernelChecks.softmax() }
    func testLayerNormWithResidualMatchesDoublePrecision() { KernelChecks.layerNorm() }
}

enum KernelChecks {
    /// Deterministic values spread over [-range, range].
    static func values(_ count: Int, range: Float, seed: UInt64 = 7) -> [Float] {
        var s = seed
        return (0..<count).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * range
        }
    }

    static func gelu() {
        for range: Float in [1, 6, 30] {
            let x = values(1003, range: range) + [0, -0.0, 1e-30, -1e-30, 9, -9]
            var y = x
            ckpt_gelu_erf(&y, y.count)
            for (a, b) in zip(x, y) {
                let exact = 0.5 * Double(a) * (1 + erf(Double(a) / 2.0.squareRoot()))
                XCTAssertEqual(Double(b), exact, accuracy: 2e-6 * max(1, abs(exact)), "gelu(\(a))")
            }
        }
    }

    static func softmax() {
        for cols in [1, 7, 8, 13, 128, 131] {
            let rows = 5
            let x = values(rows * cols, range: 20, seed: UInt64(cols))
            var mask = (0..<(rows * cols)).map { UInt8(($0 * 7 + $0 / cols) % 3 == 0 ? 0 : 1) }
            for c in 0..<cols { mask[2 * cols + c] = 0 }  // a row with nothing allowed
            var y = x
            ckpt_masked_softmax(&y, mask, rows, cols, 0.125)
            for r in 0..<rows {
                let allowed = (0..<cols).filter { mask[r * cols + $0] != 0 }
                let m = allowed.map { Double(x[r * cols + $0]) * 0.125 }.max()
                let sum = allowed.reduce(0.0) { $0 + exp(Double(x[r * cols + $1]) * 0.125 - m!) }
                for c in 0..<cols {
                    let expected = mask[r * cols + c] == 0 ? 0 : exp(Double(x[r * cols + c]) * 0.125 - m!) / sum
                    XCTAssertEqual(Double(y[r * cols + c]), expected, accuracy: 1e-6, "row \(r) col \(c) of \(cols)")
                }
            }
        }
    }

    static func layerNorm() {
        for (cols, zeroMean) in [(768, true), (13, true), (64, false), (9, false)] {
            let rows = 3
            let x = values(rows * cols, range: 4, seed: 11), residual = values(rows * cols, range: 2, seed: 12)
            let gamma = values(cols, range: 1.5, seed: 13), beta = values(cols, range: 0.5, seed: 14)
            var y = x
            ckpt_layer_norm(&y, residual, gamma, zeroMean ? beta : nil, rows, cols, 1e-12, zeroMean ? 1 : 0)
            for r in 0..<rows {
                let v = (0..<cols).map { Double(x[r * cols + $0]) + Double(residual[r * cols + $0]) }
                let mean = zeroMean ? v.reduce(0, +) / Double(cols) : 0
                let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(cols)
                for c in 0..<cols {
                    let expected =
                        (v[c] - mean) / (variance + 1e-12).squareRoot() * Double(gamma[c])
                        + (zeroMean ? Double(beta[c]) : 0)
                    XCTAssertEqual(Double(y[r * cols + c]), expected, accuracy: 1e-5, "row \(r) col \(c) of \(cols)")
                }
            }
        }
    }
}
