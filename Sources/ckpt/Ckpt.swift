import ArgumentParser
import CkptCore
import CkptModels
import CSystem

import Foundation

/// The `ckpt` command: subcommands only. Exit status: 0 success, 1 bad input (a `CkptError`,
/// one line on stderr), 2 bad usage.
@main
struct Ckpt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckpt",
        abstract: "Inspect, convert, prune, run and verify transformer checkpoints without TensorFlow or PyTorch.",
        version: "ckpt \(LibraryVersions.release)",
        subcommands: [Inspect.self, Convert.self, Prune.self, Forward.self, Verify.self, Diff.self, Tokenize.self])

    static func main() {
        // The full version (commit, OpenBLAS, libhdf5) loads libraries no other command needs.
        if Array(CommandLine.arguments.dropFirst()) == ["--version"] {
            print(LibraryVersions.text)
            return
        }
        ckpt_interrupts_install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CkptError {
            Output.error("ckpt: error: \(error)")
            // Without the atexit handlers: after a failed write libhdf5's own shutdown can crash
            // (1.10 closes the half-written file again and faults), turning exit 1 into a signal.
            fflush(nil)
            _exit(error.kind == .badUsage ? 2 : 1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if code == .validationFailure {
                // Usage errors are one line too, like every other error (the help has the rest).
                let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? ""
                Output.error(
                    "ckpt: error: \(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message) (see --help)"
                )
                Foundation.exit(2)
            }
            // `ExitCode(1)` (diff found differences) carries no message: print no empty line.
            let message = fullMessage(for: error)
            if !message.isEmpty { Output.error(message) }
            Foundation.exit(code.rawValue)
        }
    }
}

/// Writing to stdout/stderr.
enum Output {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
