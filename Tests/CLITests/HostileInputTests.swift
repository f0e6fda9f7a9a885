import CkptCore
@testable import CkptFormats
import CkptTestSupport
import Foundation
import XCTest

/// Hostile input, as a user meets it: `ckpt inspect --stats` (which opens a file and reads every
/// tensor) on damaged and crafted files must end with exit 0 (a flip in padding) or exit 1 and
/// one line on stderr — never a signal or a trap — and, under a 4 GB address-space limit, never
/// try to allocate what a corrupt header declares.
final class HostileInputTests: ScratchTestCase {
    struct Outcome {
        let reason: Process.TerminationReason
        let status: Int32
        let stderr: String
    }

    /// Runs ckpt under `ulimit -v` (4 GiB): an attempt to allocate a declared 2^62 bytes fails
    /// (and then traps, which the caller sees as a signal) instead of swapping.
    static func ckpt(_ args: [String]) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments =
            ["-c", "ulimit -v 4194304; exec \"$0\" \"$@\"", Bundle.main.bundleURL.appendingPathComponent("ckpt").path]
            + args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Outcome(
            reason: p.terminationReason, status: p.terminationStatus, stderr: String(decoding: e, as: UTF8.self))
    }

    func assertClean(
        _ o: Outcome, _ what: String, mustFail: Bool = false, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(o.reason, .exit, "\(what): killed by signal \(o.status)", file: file, line: line)
        if mustFail || o.status != 0 {
            XCTAssertEqual(o.status, 1, "\(what): \(o.stderr)", file: file, line: line)
            XCTAssertEqual(o.stderr.split(separator: "\n").count, 1, "\(what): \(o.stderr)", file: file, line: line)
            XCTAssertTrue(o.stderr.hasPrefix("ckpt: error: "), "\(what): \(o.stderr)", file: file, line: line)
        }
    }

    /// A small deterministic generator (SplitMix64), so every run damages the same bytes.
    struct Seeded {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The files a user hands to ckpt, each opened through the path given (a folder or the file).
    static let cases: [(folder: String, file: String, open: String)] = {
        var out: [(String, String, String)] = []
        for f in Fixtures.families {
            out.append(("families/\(f)", "model.ckpt.index", "model.ckpt"))
            out.append(("families/\(f)", "model.ckpt.data-00000-of-00001", "model.ckpt"))
            // The families' Keras files share one structure; three of them stand for all.
            if ["bert", "nezha", "t5.1.1"].contains(f) {
                out.append(("families/\(f)", "model.weights.h5", "model.weights.h5"))
            }
        }
        out += [
            ("special/sharded", "model.ckpt.index", "model.ckpt"),
            ("special/sharded", "model.ckpt.data-00001-of-00003", "model.ckpt"),
            ("special/dtypes", "model.ckpt.index", "model.ckpt"),
            ("special/dtypes", "model.ckpt.data-00000-of-00001", "model.ckpt"),
            ("special/safetensors", "model.safetensors", "model.safetensors"),
            ("special/safetensors/sharded", "model.safetensors.index.json", "model.safetensors.index.json"),
            ("special/safetensors/sharded", "model-00001-of-00002.safetensors", "model.safetensors.index.json"),
            ("special/npz", "model.npz", "model.npz"), ("special/npz", "uncompressed.npz", "uncompressed.npz"),
            ("special/keras_full", "model.h5", "model.h5"),
        ]
        return out
    }()

    /// Every fixture file cut at 64 evenly spaced offsets, and 32 times damaged at 1-4 random
    /// bytes (seeded). Each damaged file is read in this process (opening it and every tensor
    /// must end in a CkptError or succeed), and every HDF5 case and every fourth other one also
    /// through the CLI (libhdf5 1.10 itself can fault on corrupt files: ckpt's guard turns that
    /// into exit 1, which only a separate process can show). Two cases run at a time.
    func testEveryFixtureFileTruncatedAndFlipped() throws {
        let failures = Locked<[String]>([])
        let cases = Self.cases
        let scratch = self.scratch
        DispatchQueue.concurrentPerform(iterations: cases.count) { k in
            let c = cases[k]
            do {
                let copy = scratch + "/case-\(k)"
                try FileManager.default.copyItem(atPath: Fixtures.path(c.folder), toPath: copy)
                let path = copy + "/" + c.file
                let original = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
                var mutations: [(String, [UInt8])] = (0..<64).map { i in
                    let cut = original.count * i / 64
                    return ("cut at \(cut)", Array(original[..<cut]))
                }
                var rng = Seeded(state: UInt64(k) &* 7919 &+ 17)
                for _ in 0..<32 where !original.isEmpty {
                    var bytes = original
                    var what: [String] = []
                    for _ in 0..<(1 + Int(rng.next() % 4)) {
                        let at = Int(rng.next() % UInt64(bytes.count))
                        bytes[at] ^= UInt8(1 + rng.next() % 255)
                        what.append("\(at)")
                    }
                    mutations.append(("bytes \(what.joined(separator: ",")) changed", bytes))
                }
                let hdf5 = c.file.hasSuffix(".h5")
                for (n, (what, bytes)) in mutations.enumerated() {
                    try Data(bytes).write(to: URL(fileURLWithPath: path))
                    if !hdf5 {
                        do {
                            let source = try CheckpointOpener.open(copy + "/" + c.open)
                            for t in source.tensors {
                                if t.dtype == .string {
                                    _ = try source.strings(of: t)
                                } else {
                                    _ = try source.withBytes(of: t) { $0.count }
                                }
                            }
                        } catch is CkptError {
                        } catch {
                            failures.mutate { $0.append("\(c.folder)/\(c.file) \(what): not a CkptError: \(error)") }
                        }
                        if n % 4 != 0 { continue }
                    }
                    let o = try Self.ckpt(["inspect", "--stats", copy + "/" + c.open])
                    let ok =
                        o.reason == .exit
                        && (o.status == 0
                            || (o.status == 1 && o.stderr.split(separator: "\n").count == 1
                                && o.stderr.hasPrefix("ckpt: error: ")))
                    if !ok {
                        failures.mutate {
                            $0.append(
                                "\(c.folder)/\(c.file) \(what): \(o.reason == .exit ? "exit" : "signal") \(o.status) "
                                    + "\(o.stderr.prefix(300))"
                            )
                        }
                    }
                }
            } catch {
                failures.mutate { $0.append("\(c.folder)/\(c.file): \(error)") }
            }
        }
        XCTAssertEqual(failures.value, [], failures.value.prefix(10).joined(separator: "\n"))
    }

    /// Headers declaring 2^62 bytes (or overflowing 2^64): refused from the header, not allocated.
    func testDeclaredSizesOf2To62() throws {
        // safetensors: shape [2^31, 2^29] float32 = 2^62 bytes.
        let header = Array(
            #"{"w":{"dtype":"F32","shape":[2147483648,536870912],"data_offsets":[0,4611686018427387904]}}"#.utf8)
        var st = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header
        st += [UInt8](repeating: 0, count: 64)
        try Data(st).write(to: URL(fileURLWithPath: scratch + "/huge.safetensors"))
        assertClean(
            try Self.ckpt(["inspect", "--stats", scratch + "/huge.safetensors"]), "safetensors 2^62", mustFail: true)

        // npz: an .npy member declaring (2^31, 2^29) float32.
        let npyHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 536870912), }"
        var npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let padded = npyHeader + String(repeating: " ", count: (64 - (10 + npyHeader.utf8.count + 1) % 64) % 64) + "\n"
        npy +=
            withUnsafeBytes(of: UInt16(padded.utf8.count).littleEndian, Array.init) + Array(padded.utf8)
            + [UInt8](repeating: 0, count: 16)
        try writeStoredZip(member: "w.npy", npy, to: scratch + "/huge.npz")
        assertClean(try Self.ckpt(["inspect", "--stats", scratch + "/huge.npz"]), "npz 2^62", mustFail: true)

        // TF bundle: an entry declaring shape [2^31, 2^29] float32 over a 16-byte shard.
        let dir = scratch + "/tf"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let entry = BundleProtoEncoding.entry(
            dtype: 1, shape: [1 << 31, 1 << 29], shard: 0, offset: 0, size: 1 << 62, crc32c: 0)
        let index = SSTableWriter.table([([], BundleProtoEncoding.header(numShards: 1)), (Array("w".utf8), entry)])
        try Data(index).write(to: URL(fileURLWithPath: dir + "/model.ckpt.index"))
        try Data(count: 16).write(to: URL(fileURLWithPath: dir + "/model.ckpt.data-00000-of-00001"))
        assertClean(try Self.ckpt(["inspect", "--stats", dir + "/model.ckpt"]), "TF entry 2^62", mustFail: true)
        assertClean(
            try Self.ckpt([
                "convert", dir + "/model.ckpt", "--to", scratch + "/out", "--allow-unmapped", "--model", "bert",
            ]),
            "convert TF entry 2^62", mustFail: true)
    }

    func testDataShardReplacedByADirectory() throws {
        let copy = scratch + "/bert"
        try FileManager.default.copyItem(atPath: Fixtures.path("families/bert"), toPath: copy)
        let data = copy + "/model.ckpt.data-00000-of-00001"
        try FileManager.default.removeItem(atPath: data)
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        let o = try Self.ckpt(["inspect", "--stats", copy])
        assertClean(o, "data shard is a directory", mustFail: true)
        XCTAssertTrue(o.stderr.contains("model.ckpt.data-00000-of-00001"), o.stderr)
    }

    func testIndexPointingIntoAMissingShard() throws {
        let copy = scratch + "/sharded"
        try FileManager.default.copyItem(atPath: Fixtures.path("special/sharded"), toPath: copy)
        try FileManager.default.removeItem(atPath: copy + "/model.ckpt.data-00002-of-00003")
        let o = try Self.ckpt(["inspect", "--stats", copy])
        assertClean(o, "missing shard", mustFail: true)
        XCTAssertTrue(o.stderr.contains("00002-of-00003"), o.stderr)
    }

    func testShardNamesLeavingTheFolder() throws {
        let copy = scratch + "/st"
        try FileManager.default.copyItem(atPath: Fixtures.path("special/safetensors/sharded"), toPath: copy)
        for name in ["../../etc/passwd", "/etc/passwd", "sub/../../x.safetensors"] {
            let index = #"{"metadata": {}, "weight_map": {"w": "\#(name)"}}"#
            try Data(index.utf8).write(to: URL(fileURLWithPath: copy + "/model.safetensors.index.json"))
            assertClean(
                try Self.ckpt(["inspect", copy + "/model.safetensors.index.json"]), "shard \(name)", mustFail: true)
        }
    }

    /// A zip archive with one stored member (what numpy.savez writes, uncompressed).
    func writeStoredZip(member: String, _ data: [UInt8], to path: String) throws {
        let name = Array(member.utf8)
        let crc = data.withUnsafeBytes { Checksum.crc32($0) }
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
        func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        var local: [UInt8] = le32(0x0403_4b50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0)
        local +=
            le32(crc) + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(name.count) + le16(0) + name + data
        var central: [UInt8] = le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0)
        central +=
            le32(crc) + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(name.count) + le16(0) + le16(0)
        central += le16(0) + le16(0) + le32(0) + le32(0) + name
        let end: [UInt8] =
            le32(0x0605_4b50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(UInt32(central.count))
            + le32(UInt32(local.count)) + le16(0)
        try Data(local + central + end).write(to: URL(fileURLWithPath: path))
    }
}

/// A value shared by concurrent test work.
final class Locked<T>: @unchecked Sendable {
    private var v: T
    private let lock = NSLock()
    init(_ v: T) { self.v = v }
    var value: T { lock.lock(); defer { lock.unlock() }; return v }
    func mutate(_ f: (inout T) -> Void) { lock.lock(); f(&v); lock.unlock() }
}
