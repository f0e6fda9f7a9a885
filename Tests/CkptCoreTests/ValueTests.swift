import CkptCore
import XCTest

final class ValueTests: XCTestCase {
    /// IEEE 754 binary16 and bfloat16 reference encodings.
    func testHalfPrecisionWidening() {
        XCTAssertEqual(HalfPrecision.float16(0x3C00), 1.0)
        XCTAssertEqual(HalfPrecision.float16(0xC000), -2.0)
        XCTAssertEqual(HalfPrecision.float16(0x7BFF), 65504.0)
        XCTAssertEqual(HalfPrecision.float16(0x0001), 0x1p-24)
        XCTAssertEqual(HalfPrecision.float16(0x7C00), .infinity)
        XCTAssertTrue(HalfPrecision.float16(0x7E00).isNaN)
        XCTAssertEqual(HalfPrecision.bfloat16(0x3F80), 1.0)
        XCTAssertEqual(HalfPrecision.bfloat16(0xC049), -3.140625)
        XCTAssertEqual(HalfPrecision.float8E4M3FN(0x7E), 448)
        XCTAssertTrue(HalfPrecision.float8E4M3FN(0x7F).isNaN)
        XCTAssertEqual(HalfPrecision.float8E5M2(0x7B), 57344)
    }

    func testStatisticsCountNaNAndInfAndUsePopulationStd() {
        let values: [Float] = [1, 2, 3, 4, .nan, .infinity, -.infinity]
        let s = values.withUnsafeBytes { TensorStatistics.of($0, dtype: .float32) }!
        XCTAssertEqual(s.count, 7)
        XCTAssertEqual(s.nanCount, 1)
        XCTAssertEqual(s.infCount, 2)
        XCTAssertEqual(s.min, 1)
        XCTAssertEqual(s.max, 4)
        XCTAssertEqual(s.mean!, 2.5, accuracy: 1e-12)
        XCTAssertEqual(s.std!, 1.25.squareRoot(), accuracy: 1e-12)
        XCTAssertNil([Int32(1)].withUnsafeBytes { TensorStatistics.of($0, dtype: .int32) })
    }

    func testStatisticsAcrossBlocksMatchTwoPassFormula() {
        let values = (0..<10_000).map { Double($0 % 97) * 0.25 - 7 }
        let s = values.withUnsafeBytes { TensorStatistics.of($0, dtype: .float64) }!
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        XCTAssertEqual(s.mean!, mean, accuracy: 1e-9)
        XCTAssertEqual(s.std!, variance.squareRoot(), accuracy: 1e-9)
    }

    func testShapeMathRejectsOverflowAndNegatives() {
        XCTAssertEqual(ShapeMath.byteCount([2, 3], .float32), 24)
        XCTAssertEqual(ShapeMath.byteCount([], .float64), 8)
        XCTAssertEqual(ShapeMath.byteCount([0, 3], .float32), 0)
        XCTAssertNil(ShapeMath.byteCount([Int.max / 2, 3], .float32))
        XCTAssertNil(ShapeMath.byteCount([-1], .float32))
        XCTAssertNil(ShapeMath.byteCount([1], .string))
    }

    func testGlob() {
        XCTAssertTrue(Glob.matches("bert/*/kernel", "bert/encoder/layer_0/kernel"))
        XCTAssertTrue(Glob.matches("layer_?", "layer_3"))
        XCTAssertFalse(Glob.matches("layer_?", "layer_10"))
        XCTAssertTrue(Glob.matches("*", ""))
        XCTAssertFalse(Glob.matches("a*b", "acd"))
        // The prefix and suffix fast paths.
        XCTAssertTrue(Glob.matches("*/adam_m", "bert/pooler/dense/kernel/adam_m"))
        XCTAssertFalse(Glob.matches("*/adam_m", "adam_m"))
        XCTAssertFalse(Glob.matches("*/adam_m", "bert/adam_v"))
        XCTAssertTrue(Glob.matches("Embedding-*", "Embedding-Token"))
        XCTAssertFalse(Glob.matches("Embedding-*", "Embedding"))
        XCTAssertTrue(Glob.matches("*语", "模型语"))
    }
}
