import CkptCore
import Foundation

/// Computes the tensors a conversion builds (transposed, fused, cast, pruned) on a thread of its
/// own, ahead of the writer, so that building the next tensor overlaps writing this one: about
/// half the time of an `hf` to native conversion is the kernel copying written bytes into the
/// page cache, a third transposing. The queue holds at most `capacity` bytes (pieces of at most
/// `piece` bytes), so memory stays bounded whatever the tensor sizes. Only this thread reads the
/// source while the pipeline runs.
final class ProducerPipeline: @unchecked Sendable {
    private enum Item {
        case chunk([UInt8])
        case end
        case failed(any Error)
    }

    private let condition = NSCondition()
    private var queue: [Item] = []
    private var head = 0
    private var queuedBytes = 0
    private var cancelled = false
    private let done = DispatchSemaphore(value: 0)
    private let capacity: Int
    private let piece: Int

    init(capacity: Int = 32 << 20, piece: Int = 4 << 20) {
        self.capacity = capacity
        self.piece = piece
    }

    /// Starts producing `outputs`, in order.
    func start(_ outputs: [PlannedOutput], source: any TensorSource) {
        // Readers are not Sendable (one thread at a time): while the pipeline runs, this thread is
        // the only one that reads the source.
        let reader = SourceHandOff(source: source)
        let thread = Thread { [self] in
            let source = reader.source
            defer { done.signal() }
            for output in outputs {
                do {
                    try TensorAssembly.produce(output, from: source) { bytes in
                        var at = 0
                        while at < bytes.count {
                            let n = min(piece, bytes.count - at)
                            try push(.chunk(Array(bytes[at..<at + n])), bytes: n)
                            at += n
                        }
                    }
                    try push(.end, bytes: 0)
                } catch is CancellationError {
                    return
                } catch {
                    try? push(.failed(error), bytes: 0)
                    return
                }
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Hands each piece of the next tensor to `body`, in order; rethrows the producer's failure.
    func next(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            switch pop() {
            case .chunk(let bytes): try bytes.withUnsafeBytes(body)
            case .end: return
            case .failed(let error): throw error
            }
        }
    }

    /// Stops the producer (the writer failed or finished) and waits for its thread to end.
    func finish() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
        done.wait()
    }

    private func push(_ item: Item, bytes: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && queuedBytes > 0 && queuedBytes + bytes > capacity { condition.wait() }
        if cancelled { throw CancellationError() }
        queue.append(item)
        queuedBytes += bytes
        condition.broadcast()
    }

    private func pop() -> Item {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count { condition.wait() }
        let item = queue[head]
        queue[head] = .end  // release the bytes now
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        if case .chunk(let b) = item { queuedBytes -= b.count }
        condition.broadcast()
        return item
    }
}

/// A source handed to the producer thread, which alone reads it from then on.
private struct SourceHandOff: @unchecked Sendable {
    let source: any TensorSource
}
