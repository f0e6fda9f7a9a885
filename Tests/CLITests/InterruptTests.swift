import CkptTestSupport
import Foundation
import XCTest

/// No lost data: an interrupted or failing write leaves nothing under the output name (and an
/// existing output as it was), with one line on stderr.
final class InterruptTests: ScratchTestCase {
    /// A copy of the bert fixture whose vocab.txt is a FIFO: convert blocks opening it, after
    /// every tensor is written into the temporary folder and before the rename — a deterministic
    /// point "mid-write" to interrupt.
    func blockingSource() throws -> String {
        let src = scratch + "/src"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("families/bert"))
        where name.hasPrefix("model.ckpt") || name == "config.json" {
            try FileManager.default.copyItem(atPath: Fixtures.path("families/bert/\(name)"), toPath: "\(src)/\(name)")
        }
        XCTAssertEqual(mkfifo("\(src)/vocab.txt", 0o644), 0)
        return src
    }

    func interrupt(with signal: Int32, expect status: Int32, force: Bool) throws {
        let src = try blockingSource()
        let out = scratch + "/out"
        let p = Process()
        p.executableURL = Bundle.main.bundleURL.appendingPathComponent("ckpt")
        p.arguments = ["convert", src, "--to", out] + (force ? ["--force"] : [])
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        // Wait until the weights are in the temporary folder beside the output.
        let deadline = Date().addingTimeInterval(20)
        func tempFolders() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).filter {
                $0.hasPrefix(".out.ckpt-tmp")
            }
        }
        while Date() < deadline {
            if let t = tempFolders().first, FileManager.default.fileExists(atPath: "\(scratch)/\(t)/model.safetensors")
            {
                break
            }
            usleep(10_000)
        }
        XCTAssertEqual(tempFolders().count, 1, "the conversion never reached its temporary folder")
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, status, stderr)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        XCTAssertTrue(stderr.contains("interrupted"), stderr)
        XCTAssertEqual(tempFolders(), [], "temporary folder left behind")
    }

    func testSIGINTLeavesNothing() throws {
        try interrupt(with: SIGINT, expect: 130, force: false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/out"))
    }

    func testSIGTERMKeepsTheExistingOutput() throws {
        let out = scratch + "/out"
        XCTAssertEqual(try CLI.run(["convert", Fixtures.path("families/bert"), "--to", out]).status, 0)
        let before = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors"))
        try interrupt(with: SIGTERM, expect: 143, force: true)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), before)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors")), bytes)
    }

    /// A full disk, met as the file size limit (`ulimit -f`): EFBIG, not a crash (SIGXFSZ is
    /// ignored), one line, nothing left — for every writer.
    func testFileSizeLimitIsOneLineAndLeavesNothing() throws {
        let ckpt = Bundle.main.bundleURL.appendingPathComponent("ckpt").path
        for layout in ["native", "tf", "keras"] {
            let out = scratch + "/out-\(layout)"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            // 4 blocks: a few kilobytes, below every fixture's weights.
            p.arguments = [
                "-c", "ulimit -f 4; exec \"$0\" \"$@\"", ckpt, "convert", Fixtures.path("families/t5.1.1"), "--to", out,
                "--layout", layout,
            ]
            let err = Pipe()
            p.standardError = err
            try p.run()
            p.waitUntilExit()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(p.terminationReason, .exit, layout)
            XCTAssertEqual(p.terminationStatus, 1, "\(layout): \(stderr)")
            XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
            XCTAssertTrue(stderr.contains("file size limit") || stderr.contains("cannot"), stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [], layout)
        }
    }
}
