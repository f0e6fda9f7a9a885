/// A row-major float32 matrix: the activations and weights of the forward pass.
public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    /// Owned for activations; a weight may borrow a checkpoint's mapped bytes (`FloatArray`).
    public var data: FloatArray

    public init(rows: Int, cols: Int, data: FloatArray) {
        precondition(data.count == rows * cols, "matrix data does not match its shape")
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    public init(rows: Int, cols: Int, data: [Float]) { self.init(rows: rows, cols: cols, data: FloatArray(data)) }

    public init(zeros rows: Int, _ cols: Int) {
        self.init(rows: rows, cols: cols, data: [Float](repeating: 0, count: rows * cols))
    }

    /// A matrix whose every element the caller writes before reading (no zeroing pass).
    init(uninitialized rows: Int, _ cols: Int) {
        self.rows = rows
        self.cols = cols
        data = FloatArray([Float](unsafeUninitializedCapacity: rows * cols) { _, n in n = rows * cols })
    }

    public subscript(r: Int, c: Int) -> Float {
        get { data[r * cols + c] }
        set { data[r * cols + c] = newValue }
    }

    public func row(_ r: Int) -> Slice<FloatArray> { data[(r * cols)..<((r + 1) * cols)] }

    /// `self · other` (other: [cols, n]), or `self · otherᵀ` (other: [n, cols]) through sgemm.
    public func matmul(_ other: Matrix, transposed: Bool = false) -> Matrix {
        let n = transposed ? other.rows : other.cols
        precondition((transposed ? other.cols : other.rows) == cols, "matmul shapes")
        var out = Matrix(uninitialized: rows, n)
        data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                out.data.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(
                        a.baseAddress!, b.baseAddress!, c.baseAddress!, m: rows, n: n, k: cols, transposeB: transposed)
                }
            }
        }
        return out
    }

    /// `self · other + bias` (bias per output column), split over the workers.
    func matmul(_ other: Matrix, bias: [Float]?) -> Matrix {
        product(other, rows: 0..<other.rows, cols: 0..<other.cols, bias: bias, split: true)
    }

    /// `self · other[:, cols] (+ bias[cols])`, on the calling thread.
    func columnBlock(of other: Matrix, _ cols: Range<Int>, bias: [Float]?) -> Matrix {
        product(other, rows: 0..<other.rows, cols: cols, bias: bias, split: false)
    }

    /// `self · other[rows, :] (+ bias)` where `self` has `rows.count` columns, on the calling thread.
    func rowBlockProduct(_ other: Matrix, _ rows: Range<Int>, bias: [Float]?) -> Matrix {
        product(other, rows: rows, cols: 0..<other.cols, bias: bias, split: false)
    }

    /// `self · other[rows, cols] (+ bias[cols])`, `self` having `rows.count` columns. With a bias
    /// the output starts as the bias rows and the product is accumulated onto it (beta 1), which
    /// saves OpenBLAS's zeroing pass and a separate pass adding the bias. `split`: over the
    /// workers (`BLAS.gemm`), or on the calling thread (callers already running on a worker).
    private func product(_ other: Matrix, rows: Range<Int>, cols: Range<Int>, bias: [Float]?, split: Bool) -> Matrix {
        precondition(
            self.cols == rows.count && rows.upperBound <= other.rows && cols.upperBound <= other.cols
                && (bias?.count ?? other.cols) == other.cols, "matmul shapes")
        let n = cols.count
        var out = Matrix(uninitialized: self.rows, n)
        if let bias {
            out.data.withUnsafeMutableBufferPointer { c in
                bias.withUnsafeBufferPointer { b in
                    for r in 0..<self.rows {
                        (c.baseAddress! + r * n).update(from: b.baseAddress! + cols.lowerBound, count: n)
                    }
                }
            }
        }
        let beta: Float = bias == nil ? 0 : 1
        data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                out.data.withUnsafeMutableBufferPointer { c in
                    let block = b.baseAddress! + rows.lowerBound * other.cols + cols.lowerBound
                    if split {
                        BLAS.gemm(
                            a.baseAddress!, block, c.baseAddress!, m: self.rows, n: n, k: rows.count, beta: beta,
                            ldb: other.cols)
                    } else {
                        BLAS.serialGemm(
                            a.baseAddress!, block, c.baseAddress!, m: self.rows, n: n, k: rows.count, beta: beta,
                            ldb: other.cols)
                    }
                }
            }
        }
        return out
    }

    public static func + (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols, "matrix sum shapes")
        var out = a
        out.data.withUnsafeMutableBufferPointer { o in
            b.data.withUnsafeBufferPointer { x in
                for i in 0..<o.count { o[i] += x[i] }
            }
        }
        return out
    }

    /// Adds `v` to every row.
    public mutating func addRow(_ v: [Float]) {
        biasAndApply(v) { $0 }
    }

    public mutating func apply(_ f: (Float) -> Float) {
        biasAndApply(nil, f)
    }

    /// `f(x + bias)` for every element (bias per column), in one pass.
    mutating func biasAndApply(_ bias: [Float]?, _ f: (Float) -> Float) {
        let cols = self.cols
        data.withUnsafeMutableBufferPointer { buffer in
            for r in 0..<rows {
                let base = r * cols
                if let bias {
                    for c in 0..<cols { buffer[base + c] = f(buffer[base + c] + bias[c]) }
                } else {
                    for c in 0..<cols { buffer[base + c] = f(buffer[base + c]) }
                }
            }
        }
    }

    /// Columns `start..<start+count` of every row.
    public func columns(_ start: Int, _ count: Int) -> Matrix {
        var out = Matrix(uninitialized: rows, count)
        out.data.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { d in
                for r in 0..<rows {
                    (o.baseAddress! + r * count).update(from: d.baseAddress! + r * cols + start, count: count)
                }
            }
        }
        return out
    }

    public func transposed() -> Matrix {
        var out = Matrix(uninitialized: cols, rows)
        out.data.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { d in
                for r in 0..<rows { for c in 0..<cols { o[c * rows + r] = d[r * cols + c] } }
            }
        }
        return out
    }

    /// Rows `indices` of this matrix (an embedding lookup), each index in `0..<rows`.
    func gatherRows(_ indices: [Int]) -> Matrix {
        var out = Matrix(uninitialized: indices.count, cols)
        out.data.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { d in
                for (i, r) in indices.enumerated() {
                    precondition(r >= 0 && r < rows, "row index out of range")
                    (o.baseAddress! + i * cols).update(from: d.baseAddress! + r * cols, count: cols)
                }
            }
        }
        return out
    }

    /// Adds row `indices[i]` of `table` to row `i`, each index in `0..<table.rows`.
    mutating func addRows(of table: Matrix, at indices: [Int]) {
        precondition(table.cols == cols && indices.count == rows, "embedding shapes")
        let cols = self.cols
        data.withUnsafeMutableBufferPointer { o in
            table.data.withUnsafeBufferPointer { t in
                for (i, r) in indices.enumerated() {
                    precondition(r >= 0 && r < table.rows, "row index out of range")
                    for c in 0..<cols { o[i * cols + c] += t[r * cols + c] }
                }
            }
        }
    }
}
