import Dispatch
import Foundation

/// The forward pass on every core. OpenBLAS runs single-threaded (`BLAS.load`) and ckpt splits
/// the work itself: each product by output columns, attention by head, element-wise work by
/// rows. On BERT-base at 128 tokens on 2 cores OpenBLAS's own threads gave 152 ms of products
/// a pass (their split of these small products scales 1.6× and runs the 128×128×64 attention
/// products slower than one thread); this split, 125 ms.
enum Parallel {
    /// Worker count: the cores this process may use (`CKPT_THREADS` overrides, for measuring).
    static let workers: Int = {
        if let s = ProcessInfo.processInfo.environment["CKPT_THREADS"], let n = Int(s), n > 0 { return min(n, 64) }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body(0..<count)` spread over the workers; returns when all are done.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        // concurrentPerform returns only when every iteration has run, so `body` never outlives
        // this call, and its callers hand each iteration a disjoint part of their buffers; the
        // closure is declared Sendable for Dispatch on that contract (same representation).
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(
                iterations: count, execute: unsafeBitCast(body, to: (@Sendable (Int) -> Void).self))
        }
    }

    /// Splits `0..<total` into at most `workers` contiguous ranges (see `partition`) and runs
    /// them in parallel.
    static func ranges(_ total: Int, align: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = partition(total, parts: workers, align: align)
        forEach(parts.count) { body(parts[$0]) }
    }

    /// How many pieces a layer's attention heads and feed-forward columns are cut into: one per
    /// worker when ckpt splits the products itself, else one (the BLAS threads on its own).
    static var layerPieces: Int { BLAS.splitsProducts ? workers : 1 }
}

extension Parallel {
    /// `0..<total` cut into at most `parts` contiguous ranges of near-equal length, each a
    /// multiple of `align` long but the last.
    static func partition(_ total: Int, parts: Int, align: Int = 1) -> [Range<Int>] {
        let count = max(1, min(parts, total / max(align, 1)))
        let chunk = ((total + count - 1) / count + align - 1) / align * align
        return stride(from: 0, to: total, by: max(chunk, 1)).map { $0..<min(total, $0 + chunk) }
    }

    /// Σ_g a_g · projection[rows_g, :] (+ bias), where part g's `(a_g, rows_g)` comes from
    /// `part(g)`; the parts run in parallel, each product on its own worker, and the partial
    /// sums are added at the end (part 0 accumulates onto the bias).
    static func partialSums(
        _ count: Int, rows n: Int, projection w: Matrix, bias: [Float]?,
        _ part: (Int) -> (Matrix, Range<Int>)
    ) -> Matrix {
        var partials = [Matrix](repeating: Matrix(rows: 0, cols: 0, data: []), count: count)
        partials.withUnsafeMutableBufferPointer { slots in
            forEach(count) { g in
                let (a, rows) = part(g)
                slots[g] = a.rowBlockProduct(w, rows, bias: g == 0 ? bias : nil)
            }
        }
        var out = partials[0]
        if count > 1 {
            out.data.withUnsafeMutableBufferPointer { o in
                for g in 1..<count {
                    partials[g].data.withUnsafeBufferPointer { p in
                        for i in 0..<o.count { o[i] += p[i] }
                    }
                }
            }
        }
        precondition(out.rows == n, "partial sums rows")
        return out
    }
}
