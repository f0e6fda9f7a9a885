import CkptCore
import XCTest

final class ChecksumTests: XCTestCase {
    /// The check values of the CRC catalogue (CRC-32C/ISCSI and CRC-32/ISO-HDLC of "123456789").
    func testCatalogueCheckValues() {
        let digits = Array("123456789".utf8)
        XCTAssertEqual(Checksum.crc32c(digits), 0xE306_9283)
        XCTAssertEqual(digits.withUnsafeBytes { Checksum.crc32($0) }, 0xCBF4_3926)
    }

    /// Unaligned starts and lengths around the 8-byte stride agree with extending byte by byte.
    func testAnySplitGivesTheSameCRC() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let whole = Checksum.crc32c(bytes)
        for cut in [0, 1, 3, 7, 8, 9, 63, 64, 65, 299, 300] {
            let a = Checksum.crc32c(Array(bytes[..<cut]))
            XCTAssertEqual(Checksum.crc32c(Array(bytes[cut...]), extending: a), whole, "cut at \(cut)")
        }
        var bytewise: UInt32 = 0
        for b in bytes { bytewise = Checksum.crc32c([b], extending: bytewise) }
        XCTAssertEqual(bytewise, whole)
    }

    /// Inputs long enough for the three interleaved chains (3 × 8 KiB blocks, joined by the
    /// zero-shift tables), at unaligned starts and ragged ends, equal the byte-by-byte CRC
    /// (one 1-byte instruction after another: no blocks, no tables).
    func testLongInputsAgreeWithTheByteChain() {
        let bytes = (0..<(3 * 8192 * 4 + 1234)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 7) }
        for (start, end) in [
            (0, bytes.count), (1, bytes.count), (5, 3 * 8192 + 5), (3, 3 * 8192 + 2), (7, 2 * 3 * 8192 + 100),
        ] {
            let slice = Array(bytes[start..<end])
            var bytewise: UInt32 = 0x1234_5678
            for b in slice { bytewise = Checksum.crc32c([b], extending: bytewise) }
            XCTAssertEqual(Checksum.crc32c(slice, extending: 0x1234_5678), bytewise, "bytes \(start)..<\(end)")
        }
    }

    /// The carry-less-multiplication CRC-32 equals zlib's `crc32` (the reference) at every start
    /// phase and length around its 16- and 64-byte blocks, from any starting value.
    func testFastCRC32AgreesWithZlib() throws {
        try XCTSkipUnless(Checksum.crc32IsFast, "no PCLMULQDQ on this CPU: zlib's is the only path")
        let bytes = (0..<(1 << 16 + 300)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 9) }
        bytes.withUnsafeBytes { all in
            for start in 0..<17 {
                for count in Array(0..<300) + [1023, 1024, 4097, 65_536] where start + count <= all.count {
                    let piece = UnsafeRawBufferPointer(rebasing: all[start..<(start + count)])
                    let seed = UInt32(truncatingIfNeeded: count &* 40_503)
                    XCTAssertEqual(
                        Checksum.crc32(piece, extending: seed), Checksum.zlibCRC32(piece, extending: seed),
                        "bytes \(start)..<\(start + count)")
                }
            }
        }
    }

    /// LevelDB's masking (crc32c.h: rotate right 15, add 0xa282ead8) and its inverse.
    func testMaskRoundTrip() {
        for v: UInt32 in [0, 1, 0xE306_9283, 0xFFFF_FFFF] {
            XCTAssertEqual(Checksum.unmask(Checksum.mask(v)), v)
        }
        XCTAssertEqual(Checksum.mask(0), 0xa282_ead8)
    }
}
