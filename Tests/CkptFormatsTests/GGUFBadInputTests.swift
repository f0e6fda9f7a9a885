import CkptCore
import CkptTestSupport
import Foundation
import XCTest

@testable import CkptFormats

/// Damaged and hostile GGUF files: every lie in the header is a typed error naming the file (and
/// the tensor), never a trap, a hang or a huge allocation.
final class GGUFBadInputTests: ScratchTestCase {
    /// GGUF bytes written by hand: a header, then entries appended with the helpers below.
    struct Builder {
        var bytes: [UInt8]

        init(version: UInt32 = 3, tensors: UInt64, kv: UInt64) {
            bytes = Array("GGUF".utf8)
            u32(version)
            u64(tensors)
            u64(kv)
        }

        mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        mutating func string(_ s: String, declared: UInt64? = nil) {
            u64(declared ?? UInt64(s.utf8.count))
            bytes += Array(s.utf8)
        }
        mutating func kvU32(_ key: String, _ v: UInt32) {
            string(key)
            u32(GGUFValueType.uint32.rawValue)
            u32(v)
        }
        mutating func tensor(_ name: String, ne: [UInt64], type: UInt32 = 0, offset: UInt64 = 0) {
            string(name)
            u32(UInt32(ne.count))
            for d in ne { u64(d) }
            u32(type)
            u64(offset)
        }
        /// Padding to 32 and `count` data bytes.
        mutating func data(_ count: Int) {
            bytes += [UInt8](repeating: 0, count: (32 - bytes.count % 32) % 32 + count)
        }
    }

    func write(_ b: Builder) -> String {
        let path = scratch + "/t-\(UUID().uuidString).gguf"
        Damage.write(b.bytes, to: path)
        return path
    }

    func error(_ b: Builder) -> CkptError? {
        let path = write(b)
        return Damage.expectError(path) {
            let r = try GGUFReader(path: path)
            for t in r.tensors { _ = try r.withBytes(of: t) { $0.count } }
        }
    }

    func testAWellFormedFileReads() throws {
        var b = Builder(tensors: 2, kv: 1)
        b.kvU32("general.alignment", 32)
        b.tensor("a", ne: [8], offset: 0)
        b.tensor("q", ne: [32, 2], type: GGMLType.q8_0.rawValue, offset: 32)
        b.data(32 + 68)
        let r = try GGUFReader(path: write(b))
        XCTAssertEqual(r.tensors.map(\.shape), [[8], [2, 32]])
        XCTAssertEqual(r.tensors[1].dtype, .float32)
        XCTAssertEqual(try r.withBytes(of: r.tensors[1]) { $0.count }, 64 * 4)
    }

    func testHeaderLiesAreTypedErrors() {
        var b = Builder(tensors: 0, kv: 0)
        b.bytes[0] = UInt8(ascii: "X")
        XCTAssertEqual(error(b)?.kind, .badMagic)
        XCTAssertEqual(error(Builder(version: 1, tensors: 0, kv: 0))?.kind, .unsupported)
        XCTAssertEqual(error(Builder(tensors: 1 << 40, kv: 0))?.kind, .malformed)
        XCTAssertEqual(error(Builder(tensors: 0, kv: 1 << 40))?.kind, .malformed)
        var short = Builder(tensors: 0, kv: 1)
        short.string("k", declared: 1 << 50)
        short.bytes += [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(error(short)?.kind, .truncated)
        var twice = Builder(tensors: 0, kv: 2)
        twice.kvU32("k", 1)
        twice.kvU32("k", 2)
        XCTAssertEqual(error(twice)?.kind, .malformed)
        var badType = Builder(tensors: 0, kv: 1)
        badType.string("k")
        badType.u32(77)
        badType.u32(0)
        XCTAssertEqual(error(badType)?.kind, .malformed)
        var alignment = Builder(tensors: 0, kv: 1)
        alignment.kvU32("general.alignment", 48)
        XCTAssertEqual(error(alignment)?.kind, .malformed)
    }

    /// Arrays claiming more items than the file holds, and arrays nested past the limit.
    func testArraysAreBounded() {
        var huge = Builder(tensors: 0, kv: 1)
        huge.string("a")
        huge.u32(GGUFValueType.array.rawValue)
        huge.u32(GGUFValueType.uint64.rawValue)
        huge.u64(1 << 60)
        huge.bytes += [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(error(huge)?.kind, .malformed)
        var deep = Builder(tensors: 0, kv: 1)
        deep.string("a")
        for _ in 0..<5 {
            deep.u32(GGUFValueType.array.rawValue)
            deep.u32(GGUFValueType.array.rawValue)
            deep.u64(1)
        }
        deep.bytes += [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(error(deep)?.kind, .malformed)
    }

    func testTensorTableLiesNameTheTensor() {
        func table(_ add: (inout Builder) -> Void, data: Int) -> CkptError? {
            var b = Builder(tensors: 2, kv: 0)
            add(&b)
            b.data(data)
            return error(b)
        }
        let cases: [(CkptError.Kind, String, (inout Builder) -> Void, Int)] = [
            (
                .malformed, "b",
                {
                    $0.tensor("a", ne: [8]); $0.tensor("b", ne: [1, 1, 1, 1, 1])
                }, 64
            ),
            (
                .unknownDType, "b",
                {
                    $0.tensor("a", ne: [8]); $0.tensor("b", ne: [8], type: 99, offset: 32)
                }, 64
            ),
            (
                .sizeMismatch, "b",
                {
                    $0.tensor("a", ne: [8]); $0.tensor("b", ne: [31], type: 8, offset: 32)
                }, 64
            ),
            (
                .malformed, "b",
                {
                    $0.tensor("a", ne: [8]); $0.tensor("b", ne: [8], offset: 40)
                }, 96
            ),
            (
                .outOfBounds, "b",
                {
                    $0.tensor("a", ne: [16]); $0.tensor("b", ne: [8], offset: 32)
                }, 96
            ),
            (
                .truncated, "b",
                {
                    $0.tensor("a", ne: [8]); $0.tensor("b", ne: [1 << 20], offset: 32)
                }, 64
            ),
            (
                .malformed, "a",
                {
                    $0.tensor("a", ne: [8]); $0.tensor("a", ne: [8], offset: 32)
                }, 64
            ),
            (
                .malformed, "b",
                {
                    $0.tensor("a", ne: [8]); $0.tensor("b", ne: [1 << 40, 1 << 40], offset: 32)
                }, 64
            ),
        ]
        for (kind, tensor, add, data) in cases {
            let e = table(add, data: data)
            XCTAssertEqual(e?.kind, kind, "\(String(describing: e))")
            XCTAssertEqual(e?.tensor, tensor, "\(String(describing: e))")
        }
    }

    /// Every prefix of a real file's header and a sample of its data: an error, never a crash.
    func testEveryTruncationOfAReferenceFileIsAnError() throws {
        let bytes = try MappedFile.contents(of: Fixtures.path("gguf/bert/reference.q8_0.gguf"))
        let header = try GGUFReader(path: Fixtures.path("gguf/bert/reference.q8_0.gguf")).header.dataStart
        let cuts = Array(stride(from: 0, to: header, by: 7)) + Array(stride(from: header, to: bytes.count, by: 997))
        for cut in cuts {
            let path = scratch + "/cut.gguf"
            Damage.write(Array(bytes[0..<cut]), to: path)
            XCTAssertNotNil(Damage.expectError(path) { _ = try GGUFReader(path: path) }, "cut at \(cut)")
        }
    }
}
