/// A checkpoint opened for reading: it lists tensors without reading their data, and hands out
/// one tensor's bytes at a time (a view into a mapped file where the format allows).
public protocol TensorSource: AnyObject {
    /// The format's short name: `tf`, `keras_h5`, `safetensors`, `npz`.
    var formatName: String { get }
    /// The path the user named, resolved to what was opened (prefix, file or folder).
    var path: String { get }
    /// Every tensor, in the source's own order.
    var tensors: [TensorInfo] { get }
    /// Calls `body` with the tensor's bytes: C order, little-endian, `dtype.itemSize` per element.
    /// The buffer is valid only during the call. Checksums are verified before `body` runs.
    func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
    /// The elements of a `string` tensor, in C order.
    func strings(of tensor: TensorInfo) throws -> [[UInt8]]
    /// Hints that the tensor's bytes are no longer needed, so mapped pages can leave this
    /// process's resident set while a long stream goes on (the page cache keeps them).
    func discard(_ tensor: TensorInfo)
    /// Where the tensor's bytes lie in a file exactly as `withBytes` would hand them out (no
    /// reassembly, no decompression), so a writer can copy them in the kernel; nil otherwise.
    /// Copying this way skips the checksum, which the caller must verify separately.
    func storedRange(of tensor: TensorInfo) -> StoredRange?
    /// The CRC32C the format stores for the bytes of `storedRange(of:)` (TF bundles), if any:
    /// lets a TF-to-TF copy reuse it instead of reading the bytes.
    func storedCRC32C(of tensor: TensorInfo) -> UInt32?
    /// The tensor's bytes where they lie in a mapped file, checksums verified, valid for as long
    /// as `owner` lives: a model can use them in place instead of copying them (no fresh memory
    /// to fault in). Nil where the bytes must be assembled or decoded (the default).
    func mappedBytes(of tensor: TensorInfo) throws -> MappedBytes?
    /// Format-level key/value metadata (safetensors `__metadata__`), empty when the format has none.
    var metadata: [String: String] { get }
    /// Every file the source reads (index and data shards), so writers can refuse to touch them.
    var files: [String] { get }
    /// Names stored as the very same data as an earlier name (a tied weight a torch `.bin` holds
    /// twice), to that name; empty for formats that cannot share data.
    var aliases: [String: String] { get }
    /// What the format records beside the tensors, as `key: value` lines for `inspect --all`
    /// (safetensors `__metadata__`, a Keras file's root attributes, a TF bundle's header).
    var details: [(key: String, value: String)] { get }
}

extension TensorSource {
    public func tensor(named name: String) throws -> TensorInfo {
        guard let t = tensors.first(where: { $0.name == name }) else {
            throw CkptError(.tensorNotFound, file: path, tensor: name, "no such tensor")
        }
        return t
    }

    public func discard(_ tensor: TensorInfo) {}

    /// Whether several threads may call `withBytes` at once: the TF, safetensors, PyTorch and
    /// GGUF readers read mapped files and lock what they cache; libhdf5 and the npz inflater are
    /// left to one thread.
    public var readsConcurrently: Bool { ["tf", "safetensors", "pytorch", "gguf"].contains(formatName) }
    public func storedRange(of tensor: TensorInfo) -> StoredRange? { nil }
    public func mappedBytes(of tensor: TensorInfo) throws -> MappedBytes? { nil }
    public func storedCRC32C(of tensor: TensorInfo) -> UInt32? { nil }
    public var metadata: [String: String] { [:] }
    public var files: [String] { [path] }
    public var aliases: [String: String] { [:] }
    public var details: [(key: String, value: String)] {
        metadata.sorted { $0.key < $1.key }.map { ("__metadata__.\($0.key)", $0.value) }
    }

    /// The default for formats without string tensors.
    public func strings(of tensor: TensorInfo) throws -> [[UInt8]] {
        throw CkptError(.unsupported, file: path, tensor: tensor.name, "\(formatName) holds no string tensors")
    }
}

/// A byte range of a file.
public struct StoredRange: Sendable, Equatable {
    public let path: String
    public let offset: Int
    public let count: Int

    public init(path: String, offset: Int, count: Int) {
        self.path = path
        self.offset = offset
        self.count = count
    }
}

/// Bytes inside a mapping, and the mapping that keeps them valid.
public struct MappedBytes: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    public let owner: MappedFile

    public init(bytes: UnsafeRawBufferPointer, owner: MappedFile) {
        self.bytes = bytes
        self.owner = owner
    }
}
