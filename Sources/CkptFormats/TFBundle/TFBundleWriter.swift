import CkptCore

/// Writes a TensorFlow tensor bundle (`prefix.index`, `prefix.data-0000k-of-0000n`) as
/// tensor_bundle.cc's BundleWriter does, streaming: tensor bytes go to the data shard as they
/// come, with their CRC32C; the index (header under the empty key, one BundleEntryProto per
/// tensor, keys sorted) is written at the end.
public final class TFBundleWriter {
    public let prefix: String
    private let shardFiles: [OutputFile]
    private var entries: [[UInt8]: [UInt8]] = [:]
    private var current:
        (name: String, dtype: DType, shape: [Int], shard: Int, offset: Int, expected: Int, written: Int, crc: UInt32)?

    /// `shards` data files; `sizes`, when known, their final sizes (space reserved up front, as
    /// the safetensors writer does).
    public init(prefix: String, shards: Int = 1, sizes: [Int] = []) throws {
        self.prefix = prefix
        shardFiles = try (0..<shards).map { try OutputFile(path: BundlePath.dataFile(prefix, shard: $0, of: shards)) }
        for (file, size) in zip(shardFiles, sizes) { file.preallocate(size) }
    }

    /// Starts the next tensor; its bytes follow through `append`.
    public func begin(_ name: String, dtype: DType, shape: [Int], shard: Int = 0) throws {
        try finishTensor()
        guard dtype.tensorFlowCode != nil, dtype != .string else {
            throw CkptError(
                .unsupported, file: prefix, tensor: name, "the TF bundle writer has no \(dtype.rawValue) tensors")
        }
        guard entries[Array(name.utf8)] == nil, !name.isEmpty else {
            throw CkptError(.malformed, file: prefix, tensor: name, "tensor written twice (or with an empty name)")
        }
        let file = shardFiles[shard]
        current = (name, dtype, shape, shard, file.bytesWritten, ShapeMath.byteCount(shape, dtype) ?? 0, 0, 0)
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard var c = current else { throw CkptError(.malformed, file: prefix, "bytes with no tensor begun") }
        guard c.written + bytes.count <= c.expected else {
            throw CkptError(
                .sizeMismatch, file: prefix, tensor: c.name,
                "more bytes than \(c.dtype.rawValue) \(ShapeMath.describe(c.shape)) holds")
        }
        try shardFiles[c.shard].write(bytes)
        c.crc = Checksum.crc32c(bytes, extending: c.crc)
        c.written += bytes.count
        current = c
    }

    /// Tensors whose bytes lie back to back in another file, copied by the kernel in one call,
    /// each with its known CRC32C (a bundle entry's; the caller verifies it against the bytes).
    public func appendCopies(
        _ run: StoredRange, tensors: [(name: String, dtype: DType, shape: [Int], crc32c: UInt32)], shard: Int
    ) throws {
        try finishTensor()
        let file = shardFiles[shard]
        var offset = file.bytesWritten
        var total = 0
        for t in tensors {
            let size = ShapeMath.byteCount(t.shape, t.dtype) ?? 0
            guard t.dtype.tensorFlowCode != nil, t.dtype != .string, entries[Array(t.name.utf8)] == nil else {
                throw CkptError(.malformed, file: prefix, tensor: t.name, "cannot be copied into the bundle")
            }
            entries[Array(t.name.utf8)] = BundleProtoEncoding.entry(
                dtype: t.dtype.tensorFlowCode!, shape: t.shape, shard: shard,
                offset: offset, size: size, crc32c: t.crc32c)
            offset += size
            total += size
        }
        guard total == run.count else {
            throw CkptError(.sizeMismatch, file: prefix, "copied range does not match its tensors")
        }
        try file.append(run)
    }

    private func finishTensor() throws {
        guard let c = current else { return }
        guard c.written == c.expected else {
            throw CkptError(.sizeMismatch, file: prefix, tensor: c.name, "wrote \(c.written) bytes of \(c.expected)")
        }
        entries[Array(c.name.utf8)] = BundleProtoEncoding.entry(
            dtype: c.dtype.tensorFlowCode!, shape: c.shape, shard: c.shard,
            offset: c.offset, size: c.written, crc32c: c.crc)
        current = nil
    }

    /// Closes the shards and writes the index.
    public func finish() throws {
        try finishTensor()
        for f in shardFiles { try f.close() }
        var sorted: [(key: [UInt8], value: [UInt8])] = [([], BundleProtoEncoding.header(numShards: shardFiles.count))]
        sorted += entries.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }
        let index = try OutputFile(path: BundlePath.indexFile(prefix))
        try index.write(SSTableWriter.table(sorted))
        try index.close()
    }

    /// The `checkpoint` state file naming `prefix` (relative to its folder).
    public static func stateFile(prefixName: String) -> [UInt8] {
        Array("model_checkpoint_path: \"\(prefixName)\"\nall_model_checkpoint_paths: \"\(prefixName)\"\n".utf8)
    }
}
