import CkptCore

/// One tensor as a sink receives it. `crc32c` is the checksum the source stores for the bytes a
/// kernel copy moves (a TF bundle entry's), so a TF-to-TF copy need not read them.
public struct SinkTensor: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let crc32c: UInt32?

    public init(name: String, dtype: DType, shape: [Int], crc32c: UInt32? = nil) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.crc32c = crc32c
    }

    public var byteCount: Int { ShapeMath.byteCount(shape, dtype) ?? 0 }
}

/// A writer tensors stream into, in the order it was told at creation: each tensor is begun and
/// its bytes appended (in pieces, C order), or several whole tensors lying back to back in another
/// file are appended at once, copied by the kernel. `finish` completes the files. Memory stays
/// bounded by what one tensor needs. Every format ckpt writes is one: safetensors (sharded or
/// not), TF bundle, Keras HDF5, npz.
public protocol TensorSink: AnyObject {
    /// The files written, relative to the output folder (complete after `finish`).
    var files: [String] { get }
    func begin(_ tensor: SinkTensor) throws
    func append(_ bytes: UnsafeRawBufferPointer) throws
    /// The bytes of `tensors`, back to back in `range` of another file.
    func appendCopy(_ range: StoredRange, tensors: [SinkTensor]) throws
    func finish() throws
    /// The bytes `tensor` takes in the file (fewer than it arrives as when the format encodes it).
    func storedByteCount(_ tensor: SinkTensor) -> Int
}

extension TensorSink {
    public func storedByteCount(_ tensor: SinkTensor) -> Int { tensor.byteCount }

    /// For sinks that cannot take a kernel copy: the range read back, tensor by tensor.
    func appendCopyByReading(_ range: StoredRange, tensors: [SinkTensor]) throws {
        let file = try MappedFile(path: range.path)
        var offset = range.offset
        for t in tensors {
            try begin(t)
            try withExtendedLifetime(file) {
                try append(try file.slice(offset: offset, count: t.byteCount, tensor: t.name))
            }
            offset += t.byteCount
        }
    }
}

/// How tensors in write order split into shard files of at most `maxBytes` of data (a larger
/// tensor gets a shard of its own, as transformers' `shard_checkpoint` does), and each one's shard.
public struct ShardLayout: Sendable {
    public let shards: [[SafetensorsEntry]]
    public let shardOf: [String: Int]

    public init(_ tensors: [SinkTensor], maxBytes: Int?) {
        shards = SafetensorsWriter.shards(
            tensors.map { SafetensorsEntry(name: $0.name, dtype: $0.dtype, shape: $0.shape) }, maxBytes: maxBytes)
        var shardOf: [String: Int] = [:]
        for (k, shard) in shards.enumerated() { for e in shard { shardOf[e.name] = k } }
        self.shardOf = shardOf
    }
}
