import Foundation

/// A one-line progress report on stderr, only when stderr is a terminal and the job has run
/// for more than a second.
final class ProgressLine {
    private let start = Date()
    private let enabled = isatty(2) != 0
    private var shown = false
    private var last = Date.distantPast

    func update(_ done: Int, _ total: Int) {
        guard enabled, Date().timeIntervalSince(start) > 1, Date().timeIntervalSince(last) > 0.1 else { return }
        last = Date()
        shown = true
        let pct = total > 0 ? Double(done) * 100 / Double(total) : 100
        FileHandle.standardError.write(
            Data(String(format: "\rwriting: %5.1f%% of %.1f MiB", pct, Double(total) / 1_048_576).utf8))
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
    }
}
