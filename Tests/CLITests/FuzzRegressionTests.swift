import CkptCore
import CkptTestSupport
import Foundation
import XCTest

/// Inputs the fuzzers found (scripts/fuzz.sh), kept in Tests/FuzzRegressions/TARGET/: each is
/// replayed through its fuzz target (ckpt-fuzz, a plain build: no libFuzzer) and, for HDF5,
/// through `ckpt inspect --stats`, which must end in exit 0 or 1 with one line.
final class FuzzRegressionTests: XCTestCase {
    static let root = URL(fileURLWithPath: Fixtures.root).deletingLastPathComponent().appendingPathComponent(
        "Tests/FuzzRegressions"
    ).path

    func inputs() throws -> [(target: String, path: String)] {
        var out: [(String, String)] = []
        for target in try FileManager.default.contentsOfDirectory(atPath: Self.root).sorted() {
            let dir = Self.root + "/" + target
            guard FileSystem.isDirectory(dir) else { continue }
            for f in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() {
                out.append((target, dir + "/" + f))
            }
        }
        return out
    }

    func testFoundInputsEndCleanly() throws {
        let found = try inputs()
        XCTAssertFalse(found.isEmpty)
        for (target, path) in found {
            if target == "hdf5" {
                // libhdf5 itself may fault or loop on these: ckpt's guards turn that into exit 1.
                let o = try HostileInputTests.ckpt(["inspect", "--stats", path])
                XCTAssertEqual(o.reason, .exit, path)
                XCTAssertTrue(
                    o.status == 0 || (o.status == 1 && o.stderr.split(separator: "\n").count == 1),
                    "\(path): \(o.stderr)")
                // ... and never lets it allocate what the file claims (libhdf5 asked for 4 GB here).
                if (path as NSString).lastPathComponent.hasPrefix("oom-") {
                    let peak = try Self.peakMemory(["inspect", "--stats", path])
                    XCTAssertLessThan(peak, 512 << 20, "\(path): peak RSS \(peak >> 20) MB")
                }
                continue
            }
            let p = Process()
            p.executableURL = Bundle.main.bundleURL.appendingPathComponent("ckpt-fuzz")
            p.arguments = [target, path]
            p.environment = ["CKPT_FIXTURES": Fixtures.root]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .exit, path)
            XCTAssertEqual(p.terminationStatus, 0, path)
        }
    }
}

extension FuzzRegressionTests {
    /// Peak resident memory of one `ckpt` run, from the kernel's accounting (wait4).
    static func peakMemory(_ args: [String]) throws -> Int {
        let binary = Bundle.main.bundleURL.appendingPathComponent("ckpt").path
        let argv = ([binary] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        guard posix_spawn(&pid, binary, &actions, nil, argv, environ) == 0 else { throw CocoaError(.executableLoad) }
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, 0, &usage) == pid else { throw CocoaError(.executableLoad) }
        return usage.ru_maxrss * 1024
    }
}
