import CkptCore
import Foundation

/// A TensorFlow tensor bundle (`prefix.index` + `prefix.data-0000k-of-0000n`), read without
/// TensorFlow, following tensorflow/core/util/tensor_bundle/tensor_bundle.cc.
///
/// Opening reads the index only. Tensor bytes come from the data shards through mmap, checked
/// against the entry's CRC32C on every read. Partitioned variables (entries with `slices`) are
/// listed once, under their full name and shape, and reassembled from their slices on read.
public final class TFBundleReader: TensorSource {
    public let formatName = "tf"
    /// The bundle prefix (`…/model.ckpt`).
    public let path: String
    public let tensors: [TensorInfo]
    public let numShards: Int
    /// The bundle header (BundleHeaderProto): producer and minimum consumer versions.
    public let headerVersion: (producer: Int32, minConsumer: Int32)

    private let index: SSTable
    private let entries: [[UInt8]: BundleEntry]
    private var shards: [Int: MappedFile] = [:]
    private let shardLock = NSLock()

    /// Version of the bundle format this reader understands (tensor_bundle.cc's kTensorBundleVersion).
    static let formatVersion: Int32 = 1

    public var details: [(key: String, value: String)] {
        [
            ("header.num_shards", String(numShards)), ("header.endianness", "little"),
            ("header.version.producer", String(headerVersion.producer)),
            ("header.version.min_consumer", String(headerVersion.minConsumer)),
        ]
    }

    public var files: [String] {
        [BundlePath.indexFile(path)] + (0..<numShards).map { BundlePath.dataFile(path, shard: $0, of: numShards) }
    }

    public convenience init(path: String) throws {
        try self.init(prefix: try BundlePath.resolvePrefix(path))
    }

    public init(prefix: String) throws {
        path = prefix
        let indexPath = BundlePath.indexFile(prefix)
        index = try SSTable(file: MappedFile(path: indexPath))
        guard let first = index.entries.first, first.key.isEmpty else {
            throw CkptError(.malformed, file: indexPath, "index has no bundle header entry (empty key)")
        }
        guard let header = BundleProtoDecoding.header(first.value) else {
            throw CkptError(.malformed, file: indexPath, "bundle header is not a valid BundleHeaderProto")
        }
        guard !header.bigEndian else {
            throw CkptError(.unsupported, file: indexPath, "big-endian bundles are not supported")
        }
        guard header.minConsumer <= Self.formatVersion, !header.badConsumers.contains(Self.formatVersion),
            header.producer >= 0
        else {
            throw CkptError(
                .unsupported, file: indexPath,
                "bundle format version (producer \(header.producer), min consumer \(header.minConsumer)) "
                    + "is newer than ckpt reads"
            )
        }
        guard header.numShards >= 1 else {
            throw CkptError(.malformed, file: indexPath, "bundle header declares \(header.numShards) data shards")
        }
        numShards = header.numShards
        headerVersion = (header.producer, header.minConsumer)

        var entries: [[UInt8]: BundleEntry] = [:]
        for e in index.entries.dropFirst() {
            guard let entry = BundleProtoDecoding.entry(e.value) else {
                throw CkptError(
                    .malformed, file: indexPath, tensor: Self.printable(e.key),
                    "index entry is not a valid BundleEntryProto")
            }
            entries[e.key] = entry
        }
        self.entries = entries

        // Slice entries are internal to their partitioned variable; TensorFlow's
        // CheckpointReader filters them out of its listing the same way.
        var sliceKeys = Set<[UInt8]>()
        for (key, entry) in entries where !entry.slices.isEmpty {
            for s in entry.slices { sliceKeys.insert(TensorSliceKey.encode(name: key, extents: s)) }
        }
        var infos: [TensorInfo] = []
        for e in index.entries.dropFirst() where !sliceKeys.contains(e.key) {
            guard let name = String(validating: e.key, as: UTF8.self) else {
                throw CkptError(
                    .invalidName, file: indexPath,
                    "tensor name \(Self.printable(e.key)) is not valid UTF-8")
            }
            infos.append(try Self.info(name: name, entry: entries[e.key]!, indexPath: indexPath))
        }
        tensors = infos
    }

    private static func info(name: String, entry: BundleEntry, indexPath: String) throws -> TensorInfo {
        guard let dtype = DType.tensorFlowCodes[entry.dtypeCode] else {
            throw CkptError(
                .unknownDType, file: indexPath, tensor: name, "unknown TensorFlow DataType \(entry.dtypeCode)")
        }
        guard !entry.unknownRank, entry.shape.count <= 254, entry.shape.allSatisfy({ $0 >= 0 && $0 <= Int64(Int.max) })
        else {
            throw CkptError(.malformed, file: indexPath, tensor: name, "invalid shape \(entry.shape)")
        }
        let shape = entry.shape.map { Int($0) }
        guard ShapeMath.elementCount(shape) != nil else {
            throw CkptError(
                .sizeMismatch, file: indexPath, tensor: name, "shape \(ShapeMath.describe(shape)) overflows")
        }
        let bytes: Int
        if dtype == .string {
            bytes = Int(clamping: entry.size)
        } else {
            guard let b = ShapeMath.byteCount(shape, dtype) else {
                throw CkptError(
                    .sizeMismatch, file: indexPath, tensor: name,
                    "shape \(ShapeMath.describe(shape)) of \(dtype.rawValue) overflows")
            }
            bytes = b
        }
        return TensorInfo(
            name: name, dtype: dtype, shape: shape, byteCount: bytes,
            isBookkeeping: name.hasPrefix("_CHECKPOINTABLE_"))
    }

    /// The index path for messages.
    private var indexPath: String { BundlePath.indexFile(path) }

    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard tensor.dtype != .string else {
            throw CkptError(
                .unsupported, file: indexPath, tensor: tensor.name, "string tensor: read it with strings(of:)")
        }
        let entry = try entry(for: tensor)
        if entry.slices.isEmpty {
            return try body(try checkedBytes(of: entry, name: tensor.name, dtype: tensor.dtype, shape: tensor.shape))
        }
        var full = [UInt8](repeating: 0, count: tensor.byteCount)
        try full.withUnsafeMutableBytes { dst in
            try assemble(tensor, entry: entry, into: dst)
        }
        return try full.withUnsafeBytes(body)
    }

    public func mappedBytes(of tensor: TensorInfo) throws -> MappedBytes? {
        guard tensor.dtype != .string else { return nil }
        let entry = try entry(for: tensor)
        guard entry.slices.isEmpty else { return nil }
        let bytes = try checkedBytes(of: entry, name: tensor.name, dtype: tensor.dtype, shape: tensor.shape)
        return MappedBytes(bytes: bytes, owner: try shard(entry.shardID, name: tensor.name))
    }

    private func entry(for tensor: TensorInfo) throws -> BundleEntry {
        guard let e = entries[Array(tensor.name.utf8)] else {
            throw CkptError(.tensorNotFound, file: indexPath, tensor: tensor.name, "no such tensor in the index")
        }
        return e
    }

    /// The data shard `id`, mapped on first use.
    private func shard(_ id: Int32, name: String) throws -> MappedFile {
        guard id >= 0, Int(id) < numShards else {
            throw CkptError(
                .outOfBounds, file: indexPath, tensor: name,
                "entry names data shard \(id), but the bundle has \(numShards)")
        }
        // Locked: a conversion verifies checksums on a second thread, a model loads on several.
        shardLock.lock()
        defer { shardLock.unlock() }
        if let f = shards[Int(id)] { return f }
        let f = try MappedFile(path: BundlePath.dataFile(path, shard: Int(id), of: numShards))
        shards[Int(id)] = f
        return f
    }

    /// The stored bytes of a non-string entry, after size and CRC32C checks.
    private func checkedBytes(of entry: BundleEntry, name: String, dtype: DType, shape: [Int]) throws
        -> UnsafeRawBufferPointer
    {
        let file = try shard(entry.shardID, name: name)
        guard let expected = ShapeMath.byteCount(shape, dtype), entry.size == Int64(expected) else {
            throw CkptError(
                .sizeMismatch, file: file.path, tensor: name,
                "entry stores \(entry.size) bytes, "
                    + "\(dtype.rawValue) \(ShapeMath.describe(shape)) needs \(ShapeMath.byteCount(shape, dtype) ?? -1)"
            )
        }
        let bytes = try rangeInShard(file, entry, name)
        let actual = Checksum.crc32c(bytes)
        let stored = Checksum.unmask(entry.crc32c)
        guard actual == stored else {
            throw CkptError(
                .checksumMismatch, file: file.path, tensor: name,
                "CRC32C mismatch (index says \(hex(stored)), data gives \(hex(actual)))")
        }
        return bytes
    }

    private func rangeInShard(_ file: MappedFile, _ entry: BundleEntry, _ name: String) throws -> UnsafeRawBufferPointer
    {
        guard entry.offset >= 0, entry.size >= 0, entry.offset <= Int64(Int.max), entry.size <= Int64(Int.max) else {
            throw CkptError(.outOfBounds, file: file.path, tensor: name, "negative or huge offset/size in index entry")
        }
        return try file.slice(offset: Int(entry.offset), count: Int(entry.size), tensor: name)
    }

    /// Copies every stored slice of a partitioned variable into its place in `dst`.
    private func assemble(_ tensor: TensorInfo, entry: BundleEntry, into dst: UnsafeMutableRawBufferPointer) throws {
        let shape = tensor.shape
        let item = tensor.dtype.itemSize!
        var covered = 0
        for extents in entry.slices {
            guard extents.count == shape.count else {
                throw CkptError(
                    .malformed, file: indexPath, tensor: tensor.name,
                    "slice of rank \(extents.count) for a tensor of rank \(shape.count)")
            }
            var starts: [Int] = [], lengths: [Int] = []
            for (d, e) in extents.enumerated() {
                let start = Int(clamping: e.start), length = e.length.map { Int(clamping: $0) } ?? shape[d]
                guard start >= 0, length >= 0, start <= shape[d] - length else {
                    throw CkptError(
                        .outOfBounds, file: indexPath, tensor: tensor.name,
                        "slice extent \(e.start)+\(e.length ?? -1) outside dimension \(d) of size \(shape[d])")
                }
                starts.append(start)
                lengths.append(length)
            }
            let key = TensorSliceKey.encode(name: Array(tensor.name.utf8), extents: extents)
            guard let sliceEntry = entries[key] else {
                throw CkptError(
                    .malformed, file: indexPath, tensor: tensor.name,
                    "slice \(starts)+\(lengths) listed but not stored in the index")
            }
            let src = try checkedBytes(of: sliceEntry, name: tensor.name, dtype: tensor.dtype, shape: lengths)
            SliceCopy.copy(src, sliceShape: lengths, at: starts, into: dst, fullShape: shape, itemSize: item)
            covered += lengths.reduce(1, *)
        }
        guard covered == tensor.elementCount else {
            throw CkptError(
                .malformed, file: indexPath, tensor: tensor.name,
                "slices cover \(covered) of \(tensor.elementCount) elements")
        }
    }

    public func storedRange(of tensor: TensorInfo) -> StoredRange? {
        guard tensor.dtype != .string, let entry = entries[Array(tensor.name.utf8)], entry.slices.isEmpty,
            entry.size == Int64(tensor.byteCount), entry.offset >= 0, entry.shardID >= 0, Int(entry.shardID) < numShards
        else { return nil }
        return StoredRange(
            path: BundlePath.dataFile(path, shard: Int(entry.shardID), of: numShards),
            offset: Int(entry.offset), count: tensor.byteCount)
    }

    public func storedCRC32C(of tensor: TensorInfo) -> UInt32? {
        guard storedRange(of: tensor) != nil, let entry = entries[Array(tensor.name.utf8)] else { return nil }
        return Checksum.unmask(entry.crc32c)
    }

    public func discard(_ tensor: TensorInfo) {
        guard let entry = entries[Array(tensor.name.utf8)], entry.slices.isEmpty else { return }
        // Under the shard lock: another thread may be mapping a shard (inserting into `shards`).
        shardLock.lock()
        let file = shards[Int(entry.shardID)]
        shardLock.unlock()
        file?.discard(offset: Int(clamping: entry.offset), count: Int(clamping: entry.size))
    }

    public func strings(of tensor: TensorInfo) throws -> [[UInt8]] {
        guard tensor.dtype == .string else {
            throw CkptError(.unsupported, file: indexPath, tensor: tensor.name, "not a string tensor")
        }
        let entry = try entry(for: tensor)
        guard entry.slices.isEmpty else {
            throw CkptError(
                .unsupported, file: indexPath, tensor: tensor.name, "partitioned string tensors are not supported")
        }
        let file = try shard(entry.shardID, name: tensor.name)
        let bytes = try rangeInShard(file, entry, tensor.name)
        return try TFStringTensor.decode(
            bytes, count: tensor.elementCount, storedCRC: Checksum.unmask(entry.crc32c),
            file: file.path, tensor: tensor.name)
    }

    /// A key for messages: the UTF-8 text, or its escaped bytes when it is not text.
    static func printable(_ key: [UInt8]) -> String {
        if let s = String(validating: key, as: UTF8.self), !s.contains("\0") { return s }
        return key.map { b in (0x20..<0x7f).contains(b) ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16) }
            .joined()
    }
}
