import CkptCore

/// A TF checkpoint in a folder: `model.ckpt.index`, its data shard(s) (split as safetensors
/// shards are, by `maxShardSize`) and the `checkpoint` state file that names it.
public final class TFBundleSink: TensorSink {
    public private(set) var files: [String] = []
    private let folder: String
    private let writer: TFBundleWriter
    private let shardOf: [String: Int]
    private let shardCount: Int

    public static let prefixName = "model.ckpt"

    public init(folder: String, tensors: [SinkTensor], maxShardSize: Int?) throws {
        self.folder = folder
        let layout = ShardLayout(tensors, maxBytes: maxShardSize)
        let shards = layout.shards
        shardOf = layout.shardOf
        shardCount = shards.count
        writer = try TFBundleWriter(
            prefix: FileSystem.join(folder, Self.prefixName), shards: shards.count,
            sizes: shards.map { $0.reduce(0) { $0 + $1.byteCount } })
    }

    private func shard(_ tensor: SinkTensor) throws -> Int {
        guard let k = shardOf[tensor.name] else {
            throw CkptError(.malformed, file: folder, tensor: tensor.name, "tensor not announced to the TF bundle sink")
        }
        return k
    }

    public func begin(_ tensor: SinkTensor) throws {
        try writer.begin(tensor.name, dtype: tensor.dtype, shape: tensor.shape, shard: try shard(tensor))
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws { try writer.append(bytes) }

    /// Copied by the kernel when every tensor comes with its CRC32C; read back otherwise.
    public func appendCopy(_ range: StoredRange, tensors: [SinkTensor]) throws {
        guard let first = tensors.first else { return }
        let crcs = tensors.compactMap(\.crc32c)
        guard crcs.count == tensors.count else { return try appendCopyByReading(range, tensors: tensors) }
        try writer.appendCopies(
            range, tensors: zip(tensors, crcs).map { ($0.name, $0.dtype, $0.shape, $1) }, shard: try shard(first))
    }

    public func finish() throws {
        try writer.finish()
        files =
            [Self.prefixName + ".index"]
            + (0..<shardCount).map {
                FileSystem.basename(BundlePath.dataFile(Self.prefixName, shard: $0, of: shardCount))
            }
        let state = try OutputFile(path: FileSystem.join(folder, "checkpoint"))
        try state.write(TFBundleWriter.stateFile(prefixName: Self.prefixName))
        try state.close()
        files.append("checkpoint")
    }
}
