import CkptCore

/// `model.safetensors`, or shards of at most `maxShardSize` bytes with
/// `model.safetensors.index.json`. A shard is opened at its first tensor: when that tensor comes
/// as a kernel copy, the shard's data starts in the same phase as the copied bytes (see
/// `SafetensorsWriter.header`).
public final class SafetensorsSink: TensorSink {
    public private(set) var files: [String] = []
    private let folder: String
    private let metadata: [String: String]
    private let shards: [[SafetensorsEntry]]
    private let shardOf: [String: Int]
    private var writer: SafetensorsWriter?
    private var open = -1

    /// `tensors` in the order they will come.
    public init(folder: String, tensors: [SinkTensor], maxShardSize: Int?, metadata: [String: String]) {
        self.folder = folder
        self.metadata = metadata
        let layout = ShardLayout(tensors, maxBytes: maxShardSize)
        shards = layout.shards
        shardOf = layout.shardOf
    }

    /// The writer of `tensor`'s shard, opened (and the previous one finished) when it changes.
    private func writer(for tensor: SinkTensor, phase: Int) throws -> SafetensorsWriter {
        guard let k = shardOf[tensor.name] else {
            throw CkptError(
                .malformed, file: folder, tensor: tensor.name, "tensor not announced to the safetensors sink")
        }
        if k != open {
            try writer?.finish()
            let name = SafetensorsWriter.shardName(k, of: shards.count)
            writer = try SafetensorsWriter(
                path: FileSystem.join(folder, name), entries: shards[k], metadata: metadata, dataPhase: phase)
            files.append(name)
            open = k
        }
        return writer!
    }

    public func begin(_ tensor: SinkTensor) throws { _ = try writer(for: tensor, phase: 0) }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let writer else { throw CkptError(.malformed, file: folder, "bytes with no tensor begun") }
        try writer.append(bytes)
    }

    public func appendCopy(_ range: StoredRange, tensors: [SinkTensor]) throws {
        guard let first = tensors.first else { return }
        try writer(for: first, phase: range.offset).append(range)
    }

    public func finish() throws {
        if open < 0 && shards.count == 1 && shards[0].isEmpty {
            // No tensor at all: still a valid (empty) file.
            writer = try SafetensorsWriter(
                path: FileSystem.join(folder, "model.safetensors"), entries: [], metadata: metadata)
            files.append("model.safetensors")
        }
        try writer?.finish()
        // Shards no tensor reached (none, unless the caller skipped some) still get written.
        guard files.count == shards.count else {
            throw CkptError(.sizeMismatch, file: folder, "\(shards.count - files.count) shard(s) received no tensor")
        }
        if shards.count > 1 {
            let index = try OutputFile(path: FileSystem.join(folder, "model.safetensors.index.json"))
            try index.write(SafetensorsWriter.index(shards))
            try index.close()
            files.append("model.safetensors.index.json")
        }
    }
}
