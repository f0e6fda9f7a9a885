import CkptCore

/// `model.h5` in bert4keras' `save_weights` layout: libhdf5 lays out the file (groups,
/// attributes, datasets with their space reserved) when the sink is made; the tensor bytes then
/// go straight to their offsets, streamed or copied by the kernel.
public final class KerasH5Sink: TensorSink {
    public let files = ["model.h5"]
    private let path: String
    private let offsets: [String: Int]
    private let file: OutputFile
    private var current: (tensor: SinkTensor, start: Int)?

    public init(folder: String, layers: [KerasLayerEntry]) throws {
        path = FileSystem.join(folder, "model.h5")
        offsets = try KerasH5Writer.create(path: path, layers: layers)
        file = try OutputFile(existing: path)
        file.preallocate(FileSystem.size(path) ?? 0)  // libhdf5 leaves the reserved space a hole
    }

    public func begin(_ tensor: SinkTensor) throws {
        try endTensor()
        guard let offset = offsets[tensor.name] else {
            throw CkptError(.malformed, file: path, tensor: tensor.name, "tensor has no layer in the Keras model")
        }
        try file.seek(to: offset)
        current = (tensor, file.bytesWritten)
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard current != nil else { throw CkptError(.malformed, file: path, "bytes with no tensor begun") }
        try file.write(bytes)
    }

    /// Tensors lie at libhdf5's offsets, not back to back: one kernel copy per tensor.
    public func appendCopy(_ range: StoredRange, tensors: [SinkTensor]) throws {
        var offset = range.offset
        for t in tensors {
            try begin(t)
            try file.append(StoredRange(path: range.path, offset: offset, count: t.byteCount))
            offset += t.byteCount
        }
    }

    private func endTensor() throws {
        guard let (t, start) = current else { return }
        guard file.bytesWritten - start == t.byteCount else {
            throw CkptError(
                .sizeMismatch, file: path, tensor: t.name,
                "wrote \(file.bytesWritten - start) bytes, expected \(t.byteCount)")
        }
        current = nil
    }

    public func finish() throws {
        try endTensor()
        try file.close()
    }
}
