import CBLASLoader
import CkptCore

// The only file that calls BLAS (OpenBLAS's cblas_sgemm, loaded on first use).

enum BLAS {
    /// Loads OpenBLAS; the forward pass calls this before its first product.
    static func load() throws {
        var message = [CChar](repeating: 0, count: 512)
        guard ckpt_blas_load(&message, message.count) == 0 else {
            throw CkptError(.unsupported, String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                + " (apt-get install libopenblas0)")
        }
    }

    /// C[m×n] = alpha · A[m×k] · (B[k×n] or Bᵀ with B[n×k]) + beta · C, all row-major.
    static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                     m: Int, n: Int, k: Int, transposeB: Bool = false, alpha: Float = 1, beta: Float = 0,
                     lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
        ckpt_sgemm(transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda ?? k), b,
                   Int32(ldb ?? (transposeB ? k : n)), beta, c, Int32(ldc ?? n))
    }
}
