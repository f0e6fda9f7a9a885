import CkptCore

/// One tensor announced to a GGUF writer: NumPy-order shape and the ggml type it is stored as.
public struct GGUFTensorEntry: Sendable {
    public let name: String
    public let shape: [Int]
    public let type: GGMLType

    public init(name: String, shape: [Int], type: GGMLType) {
        self.name = name
        self.shape = shape
        self.type = type
    }

    public var byteCount: Int { type.byteCount(elements: shape.reduce(1, *)) ?? 0 }
}

/// Writes a GGUF v3 file front to back, as gguf-py's `GGUFWriter` lays it out: header, metadata
/// in the order given, the tensor table with each tensor's offset, padding to the alignment,
/// then each tensor's bytes followed by padding to the alignment. The whole table is known up
/// front, so the data streams after it without seeking back.
public final class GGUFWriter {
    public let path: String
    private let file: OutputFile
    private let entries: [GGUFTensorEntry]
    private let alignment: Int
    private var next = 0
    private var written = 0
    private var open: GGUFTensorEntry?

    public init(path: String, metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorEntry]) throws {
        self.path = path
        entries = tensors
        alignment = GGUFFormat.defaultAlignment
        var header = Self.header(metadata: metadata, tensors: tensors, alignment: alignment)
        header += [UInt8](repeating: 0, count: Self.padding(header.count, alignment))
        file = try OutputFile(path: path)
        file.preallocate(header.count + tensors.reduce(0) { $0 + $1.byteCount + Self.padding($1.byteCount, 32) })
        try file.write(header)
    }

    static func padding(_ n: Int, _ alignment: Int) -> Int { (alignment - n % alignment) % alignment }

    static func header(metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorEntry], alignment: Int)
        -> [UInt8]
    {
        var out = GGUFFormat.magic
        append(&out, GGUFFormat.version)
        append(&out, UInt64(tensors.count))
        append(&out, UInt64(metadata.count))
        for (key, value) in metadata {
            appendString(&out, Array(key.utf8))
            append(&out, value.type.rawValue)
            appendValue(&out, value)
        }
        var offset = 0
        for t in tensors {
            appendString(&out, Array(t.name.utf8))
            append(&out, UInt32(t.shape.count))
            for d in t.shape.reversed() { append(&out, UInt64(d)) }
            append(&out, t.type.rawValue)
            append(&out, UInt64(offset))
            offset += t.byteCount + padding(t.byteCount, alignment)
        }
        return out
    }

    static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }

    static func appendString(_ out: inout [UInt8], _ bytes: [UInt8]) {
        append(&out, UInt64(bytes.count))
        out += bytes
    }

    static func appendValue(_ out: inout [UInt8], _ value: GGUFValue) {
        switch value {
        case .uint8(let v): append(&out, v)
        case .int8(let v): append(&out, v)
        case .uint16(let v): append(&out, v)
        case .int16(let v): append(&out, v)
        case .uint32(let v): append(&out, v)
        case .int32(let v): append(&out, v)
        case .float32(let v): append(&out, v.bitPattern)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let b): appendString(&out, b)
        case .uint64(let v): append(&out, v)
        case .int64(let v): append(&out, v)
        case .float64(let v): append(&out, v.bitPattern)
        case .array(let type, let items):
            append(&out, type.rawValue)
            append(&out, UInt64(items.count))
            for item in items { appendValue(&out, item) }
        }
    }

    /// Starts the next tensor of the table; `name` must be that tensor.
    public func begin(_ name: String) throws {
        try closeTensor()
        guard next < entries.count, entries[next].name == name else {
            throw CkptError(
                .malformed, file: path, tensor: name, "tensor not announced at this place of the GGUF table")
        }
        open = entries[next]
        next += 1
    }

    /// The open tensor's stored bytes (encoded as its ggml type), in pieces.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let open, written + bytes.count <= open.byteCount else {
            throw CkptError(.sizeMismatch, file: path, tensor: open?.name, "more bytes than the tensor holds")
        }
        try file.write(bytes)
        written += bytes.count
    }

    private func closeTensor() throws {
        guard let t = open else { return }
        guard written == t.byteCount else {
            throw CkptError(.sizeMismatch, file: path, tensor: t.name, "received \(written) of \(t.byteCount) bytes")
        }
        try file.write([UInt8](repeating: 0, count: Self.padding(t.byteCount, alignment)))
        open = nil
        written = 0
    }

    public func finish() throws {
        try closeTensor()
        guard next == entries.count else {
            throw CkptError(.sizeMismatch, file: path, "\(entries.count - next) tensor(s) of the GGUF table never came")
        }
        try file.close()
    }
}
