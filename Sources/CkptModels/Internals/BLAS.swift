import CBLASLoader
import CkptCore

// The only file that calls BLAS (OpenBLAS's cblas_sgemm, loaded on first use).

enum BLAS {
    /// Loads OpenBLAS; the forward pass calls this before its first product.
    static func load() throws {
        var message = [CChar](repeating: 0, count: 512)
        guard ckpt_blas_load(&message, message.count) == 0 else {
            throw CkptError(
                .unsupported,
                String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    + " (apt-get install libopenblas0)")
        }
        _ = splitsProducts
    }

    /// True when OpenBLAS was switched to one thread per call (always, when it has the switch)
    /// and there are several workers, so that `gemm` splits products itself; a BLAS without the
    /// switch threads as it likes, unsplit.
    static let splitsProducts: Bool = ckpt_blas_single_threaded() == 0 && Parallel.workers > 1

    /// C[m×n] = alpha · A[m×k] · (B[k×n] or Bᵀ with B[n×k]) + beta · C, all row-major, split by
    /// output columns (or rows, when there are few columns) over the workers when large enough.
    static func gemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeB: Bool = false, alpha: Float = 1, beta: Float = 0,
        lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        let lda = lda ?? k, ldb = ldb ?? (transposeB ? k : n), ldc = ldc ?? n
        // Below ~1 MFLOP a split costs more than it saves.
        guard splitsProducts, m * n * k >= 1 << 19 else {
            serialGemm(
                a, b, c, m: m, n: n, k: k, transposeB: transposeB, alpha: alpha, beta: beta, lda: lda, ldb: ldb,
                ldc: ldc)
            return
        }
        if n >= 32 * Parallel.workers {
            // Column blocks a multiple of 16 wide: whole micro-kernel panels for OpenBLAS.
            Parallel.ranges(n, align: 16) { cols in
                serialGemm(
                    a, transposeB ? b + cols.lowerBound * ldb : b + cols.lowerBound, c + cols.lowerBound,
                    m: m, n: cols.count, k: k, transposeB: transposeB, alpha: alpha, beta: beta, lda: lda, ldb: ldb,
                    ldc: ldc)
            }
        } else {
            Parallel.ranges(m, align: 4) { rows in
                serialGemm(
                    a + rows.lowerBound * lda, b, c + rows.lowerBound * ldc,
                    m: rows.count, n: n, k: k, transposeB: transposeB, alpha: alpha, beta: beta, lda: lda, ldb: ldb,
                    ldc: ldc)
            }
        }
    }

    /// The same product on the calling thread (for callers already running on every worker).
    static func serialGemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeB: Bool = false, alpha: Float = 1, beta: Float = 0,
        lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        ckpt_sgemm(
            transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda ?? k), b,
            Int32(ldb ?? (transposeB ? k : n)), beta, c, Int32(ldc ?? n))
    }
}
