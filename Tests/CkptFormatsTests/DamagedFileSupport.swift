import CkptCore
@testable import CkptFormats
import Foundation
import CkptTestSupport
import XCTest

/// Helpers that damage copies of the fixtures in controlled ways.
enum Damage {
    static func read(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path)!) }

    static func write(_ bytes: [UInt8], to path: String) {
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    /// Runs `body` expecting a CkptError; returns it (nil and a test failure when none is thrown).
    static func expectError(
        _ what: String, file: StaticString = #filePath, line: UInt = #line,
        _ body: () throws -> Void
    ) -> CkptError? {
        do {
            try body()
            XCTFail("\(what): no error thrown", file: file, line: line)
        } catch let e as CkptError {
            return e
        } catch {
            XCTFail("\(what): threw \(type(of: error)) instead of CkptError: \(error)", file: file, line: line)
        }
        return nil
    }

    /// Reads every tensor of a source, so that data damage surfaces.
    static func readAll(_ source: any TensorSource) throws {
        for t in source.tensors {
            if t.dtype == .string {
                _ = try source.strings(of: t)
            } else {
                _ = try source.withBytes(of: t) { $0.count }
            }
        }
    }

    /// Table block handles of an index file: (offset, size) of the index block and every data block.
    static func blocks(ofIndex bytes: [UInt8]) -> (index: (Int, Int), data: [(Int, Int)]) {
        func varint(_ b: [UInt8], _ i: inout Int) -> Int {
            var v = 0, shift = 0
            while true { let x = b[i]; i += 1; v |= Int(x & 0x7f) << shift; if x < 0x80 { return v }; shift += 7 }
        }
        var i = bytes.count - 48
        _ = varint(bytes, &i); _ = varint(bytes, &i)
        let io = varint(bytes, &i), isz = varint(bytes, &i)
        // Index block entries: shared, non_shared, value_len, key delta, value (a block handle).
        let restarts = Int(bytes[io + isz - 4]) | Int(bytes[io + isz - 3]) << 8
        let end = io + isz - 4 - 4 * restarts
        var p = io
        var data: [(Int, Int)] = []
        while p < end {
            _ = varint(bytes, &p); let ns = varint(bytes, &p); _ = varint(bytes, &p)
            p += ns
            let o = varint(bytes, &p), s = varint(bytes, &p)
            data.append((o, s))
        }
        return ((io, isz), data)
    }

    /// Rewrites the masked CRC32C in the trailer of the block at `offset` with `size` bytes.
    static func resealBlock(_ bytes: inout [UInt8], offset: Int, size: Int) {
        let crc = Checksum.mask(Checksum.crc32c(Array(bytes[offset...(offset + size)])))
        for k in 0..<4 { bytes[offset + size + 1 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    }
}
