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
                for name in tensors { try Self.verify(try source.tensor(named: name), of: source) }
            } catch {
                lock.lock()
                failure = error
                lock.unlock()
            }
        }.start()
    }

    /// A TF bundle entry's CRC32C from its file by `pread` (no mapping, so no resident pages);
    /// other formats' own checks through `withBytes`, the pages dropped after.
    static func verify(_ t: TensorInfo, of source: any TensorSource) throws {
        guard let range = source.storedRange(of: t), let stored = source.storedCRC32C(of: t) else {
            try source.withBytes(of: t) { _ in }
            source.discard(t)
            return
        }
        let actual = try range.crc32c()
        guard actual == stored else {
            throw CkptError(
                .checksumMismatch, file: range.path, tensor: t.name,
                "CRC32C mismatch (index says \(hex(stored)), data gives \(hex(actual)))")
        }
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
