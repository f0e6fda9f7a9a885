import COpenBLAS

// The only file that calls OpenBLAS.

enum BLAS {
    /// C[m×n] = alpha · A[m×k] · (B[k×n] or Bᵀ with B[n×k]) + beta · C, all row-major.
    static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                     m: Int, n: Int, k: Int, transposeB: Bool = false, alpha: Float = 1, beta: Float = 0,
                     lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda ?? k), b,
                    blasint(ldb ?? (transposeB ? k : n)), beta, c, blasint(ldc ?? n))
    }
}
