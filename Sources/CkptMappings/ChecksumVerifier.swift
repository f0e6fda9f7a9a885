import CkptCore
import CkptFormats
import Foundation

/// Verifies the checksums of tensors that are copied without being read, on a thread of its own
/// with its own reader (readers are not shared across threads), while the writing goes on.
final class ChecksumVerifier: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var failure: (any Error)?
    private var started = false

    /// Starts verifying `tensors` of `source` (opened again, under the file's own names).
    func start(source: any TensorSource, tensors: [String]) {
        let original = (source as? RenamedSource)?.originalNames ?? [:]
        start(path: source.path, tensors: tensors.map { original[$0] ?? $0 })
    }

    /// Starts verifying `tensors` of the checkpoint at `path`.
    func start(path: String, tensors: [String]) {
        guard !tensors.isEmpty else { return }
        started = true
        Thread { [self] in
            defer { done.signal() }
            do {
                let source = try CheckpointOpener.open(path)
                for name in tensors {
                    let t = try source.tensor(named: name)
                    try source.withBytes(of: t) { _ in }
                    source.discard(t)
                }
            } catch {
                lock.lock()
                failure = error
                lock.unlock()
            }
        }.start()
    }

    /// Waits for the verification; rethrows its failure.
    func wait() throws {
        guard started else { return }
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
    }
}
