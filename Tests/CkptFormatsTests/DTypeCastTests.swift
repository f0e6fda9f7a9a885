import CKernels
import CkptCore
import CkptFormats
import CkptTestSupport
import XCTest

/// float32 → float16 / bfloat16 against NumPy's `astype(float16)` and ml_dtypes' bfloat16 cast
/// (Fixtures/special/cast/values.npz): ties to even, subnormals, overflow, NaN, ±Inf, ±0.
final class DTypeCastTests: XCTestCase {
    func arrays() throws -> (f32: [Float], f16: [UInt16], bf16: [UInt16]) {
        let r = try NPZReader(path: Fixtures.path("special/cast/values.npz"))
        func read<T>(_ name: String, _: T.Type) throws -> [T] {
            try r.withBytes(of: try r.tensor(named: name)) { Array($0.bindMemory(to: T.self)) }
        }
        return (try read("f32", Float.self), try read("f16", UInt16.self), try read("bf16", UInt16.self))
    }

    func cast(_ values: [Float], to: DType) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { DTypeCast.convert(src, from: .float32, into: $0, to: to) }
        }
        return out
    }

    func assertSameBits(_ ours: [UInt16], _ theirs: [UInt16], _ values: [Float], nanMask: UInt16, _ what: String) {
        XCTAssertEqual(ours.count, theirs.count)
        for (i, (a, b)) in zip(ours, theirs).enumerated() {
            if values[i].isNaN {
                XCTAssertEqual(a & nanMask, nanMask, "\(what): NaN at \(i) stays NaN")
            } else {
                XCTAssertEqual(a, b, "\(what): \(values[i]) (index \(i))")
            }
        }
    }

    func testFloat16MatchesNumPy() throws {
        let a = try arrays()
        XCTAssertGreaterThan(a.f32.count, 50)
        assertSameBits(cast(a.f32, to: .float16), a.f16, a.f32, nanMask: 0x7c00, "float16")
    }

    /// The same without F16C (the portable path of CPUs that lack it, and of every tail).
    func testScalarPathsMatchToo() throws {
        ckpt_kernels_use_vectors(0)
        defer { ckpt_kernels_use_vectors(1) }
        try testFloat16MatchesNumPy()
        try testWideningIsExact()
    }

    func testBFloat16MatchesMLDtypes() throws {
        let a = try arrays()
        assertSameBits(cast(a.f32, to: .bfloat16), a.bf16, a.f32, nanMask: 0x7f80, "bfloat16")
    }

    func testWideningIsExact() throws {
        let a = try arrays()
        var back = [Float](repeating: 0, count: a.f16.count)
        a.f16.withUnsafeBytes { src in
            back.withUnsafeMutableBytes { DTypeCast.convert(src, from: .float16, into: $0, to: .float32) }
        }
        for (h, f) in zip(a.f16, back) where !f.isNaN {
            XCTAssertEqual(Float16(bitPattern: h), Float16(f))
        }
    }
}
