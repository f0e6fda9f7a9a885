import CKernels
import Foundation

/// The element-wise functions and normalizations of the families, as bert4keras defines them
/// (bert4keras/backend.py, layers.py).
public enum Activation: String, Sendable {
    /// bert4keras `gelu` = `gelu_erf`: 0.5·x·(1 + erf(x/√2)).
    case gelu, relu, tanh, sigmoid, linear
    case gelu_tanh

    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .gelu: return 0.5 * x * (1 + erf(x / Float(2).squareRoot()))
        case .gelu_tanh:
            return 0.5 * x * (1 + Foundation.tanh((2 / Float.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .relu: return max(0, x)
        case .tanh: return Foundation.tanh(x)
        case .sigmoid: return 1 / (1 + exp(-x))
        case .linear: return x
        }
    }
}

extension Matrix {
    /// `act` on every element, the rows split over the workers (unless `parallel` is false: the
    /// caller already runs on a worker); GELU through the vectorized kernel (CKernels), the
    /// others element by element.
    mutating func apply(_ act: Activation, parallel: Bool = true) {
        guard act != .linear else { return }
        let cols = self.cols
        data.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            let body = { (rows: Range<Int>) in
                let start = base + rows.lowerBound * cols, count = rows.count * cols
                if act == .gelu {
                    ckpt_gelu_erf(start, count)
                } else {
                    for i in 0..<count { start[i] = act(start[i]) }
                }
            }
            if parallel { Parallel.ranges(rows, align: max(1, 4096 / max(cols, 1)), body) } else { body(0..<rows) }
        }
    }
}

enum Normalize {
    /// LayerNormalization (bert4keras layers.py): (x − mean) / √(var + ε) · γ + β; with
    /// `zeroMean` false (T5) it is RMS normalization without offset.
    static func layerNorm(
        _ x: consuming Matrix, residual: Matrix? = nil, gamma: [Float], beta: [Float]?, epsilon: Float,
        zeroMean: Bool = true
    ) -> Matrix {
        var out = x
        let cols = out.cols
        precondition(
            gamma.count == cols && (beta?.count ?? cols) == cols
                && (residual.map { $0.cols == cols && $0.rows == out.rows } ?? true),
            "layer norm shapes")
        out.data.withUnsafeMutableBufferPointer { o in
            gamma.withUnsafeBufferPointer { g in
                withOptionalBuffer(beta) { b in
                    withOptionalBuffer(residual?.data) { r in
                        // On the calling thread: ~30 µs for 128 × 768 with AVX2, less than waking
                        // a worker costs on a virtual machine.
                        ckpt_layer_norm(o.baseAddress!, r, g.baseAddress!, b, out.rows, cols, epsilon, zeroMean ? 1 : 0)
                    }
                }
            }
        }
        return out
    }

    private static func withOptionalBuffer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let values else { return body(nil) }
        return values.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    private static func withOptionalBuffer<R>(_ values: FloatArray?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let values else { return body(nil) }
        return values.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// Softmax of each row; −∞ entries get probability 0.
    static func softmaxRows(_ x: inout Matrix) {
        let cols = x.cols, rows = x.rows
        x.data.withUnsafeMutableBufferPointer { d in
            for r in 0..<rows {
                let base = r * cols
                var m = -Float.infinity
                for c in 0..<cols { m = max(m, d[base + c]) }
                var sum: Float = 0
                for c in 0..<cols {
                    let e = d[base + c] == -.infinity ? 0 : exp(d[base + c] - m)
                    d[base + c] = e
                    sum += e
                }
                for c in 0..<cols { d[base + c] /= sum }
            }
        }
    }
}
