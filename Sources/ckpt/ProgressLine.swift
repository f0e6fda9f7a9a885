import CSystem
import Foundation

/// A one-line progress report on stderr — bytes, rate, time left and the tensor being written —
/// only when stderr is a terminal that understands it (not `TERM=dumb`), without `--quiet`, and
/// once the job has run for more than a second. Cleared before any final line (and by the
/// interrupt message).
final class ProgressLine {
    private let start = Date()
    private let enabled: Bool
    private var shown = false
    private var last = Date.distantPast

    init(quiet: Bool) {
        enabled = !quiet && isatty(2) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    func update(_ done: Int, _ total: Int, _ tensor: String) {
        let elapsed = Date().timeIntervalSince(start)
        guard enabled, elapsed > 1, Date().timeIntervalSince(last) > 0.1 else { return }
        last = Date()
        if !shown { ckpt_interrupts_set_progress(1) }
        shown = true
        let rate = Double(done) / elapsed
        let left = rate > 0 ? Double(total - done) / rate : 0
        let head = String(
            format: "writing %.1f of %.1f MiB, %.0f MiB/s, %.0f s left: ", Double(done) / 1_048_576,
            Double(total) / 1_048_576, rate / 1_048_576, left)
        let name = tensor.count > 40 ? "…" + tensor.suffix(39) : tensor
        FileHandle.standardError.write(Data(("\r\u{1b}[K" + head + name).utf8))
    }

    func finish() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[K".utf8))
        ckpt_interrupts_set_progress(0)
        shown = false
    }
}
