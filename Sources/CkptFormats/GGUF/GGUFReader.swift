import CkptCore

/// A `.gguf` file (llama.cpp) as a tensor source. Tensors are listed under the file's names in
/// NumPy orientation (the ggml dimensions reversed); F32/F16/BF16 and integer tensors are handed
/// out as stored (kernel-copyable), Q8_0 ones dequantized to float32, other block types as
/// their raw bytes (`uint8`, one row per tensor) since ckpt does not decode them.
public final class GGUFReader: TensorSource {
    public let formatName = "gguf"
    public let path: String
    public let header: GGUFHeader
    public let tensors: [TensorInfo]
    private let file: MappedFile
    private let entries: [String: GGUFTensorInfo]

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        header = try GGUFHeader(file.bytes, path: path)
        entries = Dictionary(uniqueKeysWithValues: header.tensors.map { ($0.name, $0) })
        tensors = header.tensors.map(Self.info)
    }

    static func info(_ t: GGUFTensorInfo) -> TensorInfo {
        if let dtype = t.type.plainDType {
            return TensorInfo(name: t.name, dtype: dtype, shape: t.shape, byteCount: t.byteCount)
        }
        if t.type == .q8_0 {
            return TensorInfo(name: t.name, dtype: .float32, shape: t.shape, byteCount: t.dimensions.reduce(1, *) * 4)
        }
        return TensorInfo(name: t.name, dtype: .uint8, shape: [t.byteCount], byteCount: t.byteCount)
    }

    public var metadata: [String: String] {
        var out: [String: String] = [:]
        for (k, v) in header.metadata { if let s = v.stringValue { out[k] = s } }
        return out
    }

    public var details: [(key: String, value: String)] {
        [("version", String(header.version)), ("alignment", String(header.alignment))]
            + header.metadata.map { ($0.key, "\($0.value.summary) (\($0.value.type.name))") }
            + header.tensors.filter { $0.type.plainDType == nil }.map { ("tensor \($0.name)", "stored as \($0.type)") }
    }

    private func stored(_ name: String) throws -> (GGUFTensorInfo, UnsafeRawBufferPointer) {
        guard let e = entries[name] else {
            throw CkptError(.tensorNotFound, file: path, tensor: name, "no such tensor")
        }
        return (e, try file.slice(offset: header.dataStart + e.offset, count: e.byteCount, tensor: name))
    }

    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let (e, bytes) = try stored(tensor.name)
        guard e.type == .q8_0 else { return try body(bytes) }
        var values = [Float](repeating: 0, count: bytes.count / Q8_0.blockBytes * Q8_0.blockSize)
        values.withUnsafeMutableBufferPointer { Q8_0.dequantize(bytes, into: $0) }
        return try values.withUnsafeBytes(body)
    }

    public func mappedBytes(of tensor: TensorInfo) throws -> MappedBytes? {
        let (e, bytes) = try stored(tensor.name)
        return e.type == .q8_0 ? nil : MappedBytes(bytes: bytes, owner: file)
    }

    public func storedRange(of tensor: TensorInfo) -> StoredRange? {
        guard let e = entries[tensor.name], e.type != .q8_0 else { return nil }
        return StoredRange(path: path, offset: header.dataStart + e.offset, count: e.byteCount)
    }

    public func discard(_ tensor: TensorInfo) {
        if let e = entries[tensor.name] { file.discard(offset: header.dataStart + e.offset, count: e.byteCount) }
    }
}
