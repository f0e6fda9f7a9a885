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
        case .gelu_tanh: return 0.5 * x * (1 + Foundation.tanh((2 / Float.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .relu: return max(0, x)
        case .tanh: return Foundation.tanh(x)
        case .sigmoid: return 1 / (1 + exp(-x))
        case .linear: return x
        }
    }
}

enum Normalize {
    /// LayerNormalization (bert4keras layers.py): (x − mean) / √(var + ε) · γ + β; with
    /// `zeroMean` false (T5) it is RMS normalization without offset.
    static func layerNorm(_ x: Matrix, gamma: [Float], beta: [Float]?, epsilon: Float, zeroMean: Bool = true) -> Matrix {
        var out = x
        let n = x.cols
        out.data.withUnsafeMutableBufferPointer { o in
            for r in 0..<x.rows {
                let base = r * n
                var mean: Float = 0
                if zeroMean {
                    for c in 0..<n { mean += o[base + c] }
                    mean /= Float(n)
                }
                var variance: Float = 0
                for c in 0..<n { let d = o[base + c] - mean; variance += d * d }
                variance /= Float(n)
                let inv = 1 / (variance + epsilon).squareRoot()
                for c in 0..<n {
                    var v = (o[base + c] - mean) * inv * gamma[c]
                    if let beta { v += beta[c] }
                    o[base + c] = v
                }
            }
        }
        return out
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
