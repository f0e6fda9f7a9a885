import CkptCore

/// `model.gguf` for llama.cpp. Each tensor arrives in the dtype the plan produced (float32,
/// float16 or bfloat16) and is stored as its ggml type: the same bytes for F32/F16/BF16, Q8_0
/// blocks quantized here from float32 as the bytes stream past (a partial block waits for the
/// next piece).
public final class GGUFSink: TensorSink {
    public static let fileName = "model.gguf"
    public private(set) var files: [String] = []
    private let writer: GGUFWriter
    private let types: [String: GGMLType]
    private var current: SinkTensor?
    private var pending: [Float] = []
    private var encoded: [UInt8] = []

    /// `tensors` in the order they will come; `types` their ggml types (F32 where absent).
    public init(
        folder: String, tensors: [SinkTensor], types: [String: GGMLType], metadata: [(key: String, value: GGUFValue)]
    ) throws {
        self.types = types
        let path = FileSystem.join(folder, Self.fileName)
        let entries = tensors.map { GGUFTensorEntry(name: $0.name, shape: $0.shape, type: types[$0.name] ?? .f32) }
        for (t, e) in zip(tensors, entries) where !Self.accepts(e.type, from: t.dtype) {
            throw CkptError(
                .unsupported, file: path, tensor: t.name, "cannot store \(t.dtype.rawValue) values as GGUF \(e.type)")
        }
        writer = try GGUFWriter(path: path, metadata: metadata, tensors: entries)
    }

    /// Plain types take their own dtype's bytes; Q8_0 quantizes float32.
    static func accepts(_ type: GGMLType, from dtype: DType) -> Bool {
        type.plainDType == dtype || (type == .q8_0 && dtype == .float32)
    }

    private func type(of t: SinkTensor) -> GGMLType { types[t.name] ?? .f32 }

    public func storedByteCount(_ tensor: SinkTensor) -> Int {
        type(of: tensor).byteCount(elements: tensor.shape.reduce(1, *)) ?? tensor.byteCount
    }

    public func begin(_ tensor: SinkTensor) throws {
        try flushCheck()
        try writer.begin(tensor.name)
        current = tensor
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let t = current else { throw CkptError(.malformed, file: writer.path, "bytes with no tensor begun") }
        guard type(of: t) == .q8_0 else { return try writer.write(bytes) }
        try quantize(bytes, tensor: t)
    }

    /// Quantizes whole blocks of `pending` + `bytes`, keeping the remainder for the next piece.
    private func quantize(_ bytes: UnsafeRawBufferPointer, tensor: SinkTensor) throws {
        let floats = bytes.count / 4
        guard bytes.count % 4 == 0 else {
            throw CkptError(
                .sizeMismatch, file: writer.path, tensor: tensor.name, "a float32 piece of \(bytes.count) bytes")
        }
        var values = pending
        values.reserveCapacity(pending.count + floats)
        // memcpy, not a typed view: a piece from a mapped file need not be 4-byte aligned.
        values += repeatElement(0, count: floats)
        values.withUnsafeMutableBytes {
            UnsafeMutableRawBufferPointer(rebasing: $0[(pending.count * 4)...]).copyMemory(from: bytes)
        }
        let whole = values.count / Q8_0.blockSize * Q8_0.blockSize
        if whole > 0 {
            let size = whole / Q8_0.blockSize * Q8_0.blockBytes
            if encoded.count < size { encoded = [UInt8](repeating: 0, count: size) }
            try values.withUnsafeBufferPointer { src in
                try encoded.withUnsafeMutableBytes { dst in
                    let out = UnsafeMutableRawBufferPointer(rebasing: dst[0..<size])
                    Q8_0.quantize(UnsafeBufferPointer(rebasing: src[0..<whole]), into: out)
                    try writer.write(UnsafeRawBufferPointer(out))
                }
            }
        }
        pending = Array(values[whole...])
    }

    private func flushCheck() throws {
        guard pending.isEmpty else {
            throw CkptError(
                .sizeMismatch, file: writer.path, tensor: current?.name,
                "\(pending.count) values left over: not a whole number of Q8_0 blocks")
        }
    }

    /// Read back and appended: GGUF's 32-byte padding leaves copied tensors in another page phase
    /// than their source, which the kernel copies slower than the converter's producers build
    /// them (it sends this sink no kernel copies: `Converter.kernelCopies`).
    public func appendCopy(_ range: StoredRange, tensors: [SinkTensor]) throws {
        try appendCopyByReading(range, tensors: tensors)
    }

    public func finish() throws {
        try flushCheck()
        try writer.finish()
        files = [Self.fileName]
    }
}
