import CkptCore

/// An `.npz` (`numpy.savez_compressed`): each tensor is deflated whole, so the current one is
/// held until the next begins. Marked as ckpt's own (its archive comment) for `--force`.
public final class NPZSink: TensorSink {
    public let files: [String]
    private let writer: NPZWriter
    private var current: (tensor: SinkTensor, bytes: [UInt8])?

    public init(path: String) throws {
        writer = try NPZWriter(path: path)
        files = [FileSystem.basename(path)]
    }

    public func begin(_ tensor: SinkTensor) throws {
        try endTensor()
        current = (tensor, [])
        current!.bytes.reserveCapacity(tensor.byteCount)
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard current != nil else { throw CkptError(.malformed, file: writer.path, "bytes with no tensor begun") }
        current!.bytes.append(contentsOf: bytes)
    }

    public func appendCopy(_ range: StoredRange, tensors: [SinkTensor]) throws {
        try appendCopyByReading(range, tensors: tensors)
    }

    private func endTensor() throws {
        guard let (t, bytes) = current else { return }
        guard bytes.count == t.byteCount else {
            throw CkptError(
                .sizeMismatch, file: writer.path, tensor: t.name, "wrote \(bytes.count) bytes, expected \(t.byteCount)")
        }
        current = nil
        try writer.add(t.name, dtype: t.dtype, shape: t.shape, bytes: bytes)
    }

    public func finish() throws {
        try endTensor()
        try writer.finish(comment: NPZWriter.ckptComment)
    }
}
