import CkptCore
import Foundation

/// A `.safetensors` file: 8-byte little-endian header length, a JSON header, then the tensor
/// bytes. Validated as strictly as huggingface/safetensors `tensor.rs` (`read_metadata` and
/// `validate`), in the same order, before any tensor is handed out: header size cap, header in
/// bounds, UTF-8, JSON object, dtypes, offsets contiguous from 0 with dtype × shape bytes each
/// (checked arithmetic), last offset equal to the end of the file.
public final class SafetensorsReader: TensorSource {
    public let formatName = "safetensors"
    public let path: String
    public let tensors: [TensorInfo]
    /// The header's `__metadata__` (string to string).
    public let metadata: [String: String]

    /// The library's cap on header size (safetensors `MAX_HEADER_SIZE`).
    public static let maxHeaderSize = 100_000_000

    private let file: MappedFile
    private let dataStart: Int
    private let offsets: [String: Int]

    /// One header entry: the tensor and its data offsets.
    typealias Entry = (info: TensorInfo, start: Int, end: Int)

    /// Checks run in the safetensors library's order (tensor.rs `read_metadata`, `validate`):
    /// header size cap, UTF-8, JSON, each entry, then offsets that tile the data exactly.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let (dict, headerLength) = try Self.header(of: file, path: path)
        dataStart = 8 + headerLength
        let (meta, parsed) = try Self.entries(dict, path: path)
        try Self.checkTiling(parsed, dataLength: file.size - dataStart, path: path)
        metadata = meta
        tensors = parsed.map(\.info).sorted { $0.name < $1.name }
        offsets = Dictionary(uniqueKeysWithValues: parsed.map { ($0.info.name, $0.start) })
    }

    /// The header's JSON object and its length.
    static func header(of file: MappedFile, path: String) throws -> ([String: Any], Int) {
        func bad(_ kind: CkptError.Kind, _ why: String) -> CkptError { CkptError(kind, file: path, why) }
        var r = ByteReader(file.bytes)
        guard let n64 = r.uint64LE() else {
            throw bad(.truncated, "file is \(file.size) bytes, shorter than the 8-byte header length")
        }
        guard n64 <= UInt64(Self.maxHeaderSize) else {
            throw bad(.headerTooLarge, "header length \(n64) exceeds the \(Self.maxHeaderSize)-byte limit")
        }
        let n = Int(n64)
        guard let headerBytes = r.bytes(n) else {
            throw bad(.truncated, "header length \(n) runs past the end of the file (\(file.size) bytes)")
        }
        guard let text = String(validating: headerBytes, as: UTF8.self) else {
            throw bad(.malformed, "header is not valid UTF-8")
        }
        guard text.first == "{" else { throw bad(.malformed, "header does not start with '{'") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(headerBytes)),
            let dict = object as? [String: Any]
        else {
            throw bad(.malformed, "header is not a JSON object")
        }
        return (dict, n)
    }

    /// `__metadata__` and every tensor entry, each checked on its own.
    static func entries(_ dict: [String: Any], path: String) throws -> ([String: String], [Entry]) {
        func bad(_ kind: CkptError.Kind, _ tensor: String?, _ why: String) -> CkptError {
            CkptError(kind, file: path, tensor: tensor, why)
        }
        var meta: [String: String] = [:]
        var parsed: [Entry] = []
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw bad(.malformed, nil, "__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw bad(.malformed, nil, "__metadata__ value for '\(k)' is not a string")
                    }
                    meta[k] = s
                }
                continue
            }
            guard let t = value as? [String: Any], let code = t["dtype"] as? String,
                let shapeAny = t["shape"] as? [Any], let offs = t["data_offsets"] as? [Any], offs.count == 2
            else { throw bad(.malformed, name, "entry needs dtype, shape and two data_offsets") }
            guard let dtype = DType.safetensorsCodes[code] else {
                throw bad(.unknownDType, name, "unknown dtype '\(code)'")
            }
            guard let shape = shapeAny.map(Self.integer) as? [Int], let start = Self.integer(offs[0]),
                let end = Self.integer(offs[1])
            else { throw bad(.malformed, name, "shape and data_offsets must be non-negative integers") }
            guard start <= end else { throw bad(.outOfBounds, name, "data_offsets [\(start), \(end)] run backwards") }
            guard let bytes = ShapeMath.byteCount(shape, dtype) else {
                throw bad(.sizeMismatch, name, "shape \(ShapeMath.describe(shape)) overflows")
            }
            parsed.append((TensorInfo(name: name, dtype: dtype, shape: shape, byteCount: bytes), start, end))
        }
        return (meta, parsed)
    }

    /// Offsets must tile the data region exactly, in order, each holding its tensor's bytes.
    static func checkTiling(_ parsed: [Entry], dataLength: Int, path: String) throws {
        var expected = 0
        for p in parsed.sorted(by: { ($0.start, $0.end) < ($1.start, $1.end) }) {
            guard p.start == expected else {
                throw CkptError(
                    .outOfBounds, file: path, tensor: p.info.name,
                    "data_offsets start at \(p.start), expected \(expected) (gap or overlap)")
            }
            guard p.end - p.start == p.info.byteCount else {
                throw CkptError(
                    .sizeMismatch, file: path, tensor: p.info.name,
                    "holds \(p.end - p.start) bytes, "
                        + "\(p.info.dtype.rawValue) \(ShapeMath.describe(p.info.shape)) needs \(p.info.byteCount)")
            }
            expected = p.end
        }
        guard expected == dataLength else {
            throw CkptError(
                expected > dataLength ? .truncated : .malformed, file: path,
                "tensors end at byte \(expected) of the data, but the data holds \(dataLength) bytes")
        }
    }

    /// A non-negative JSON integer (JSONSerialization hands out NSNumber), nil otherwise.
    private static func integer(_ v: Any) -> Int? {
        guard let n = v as? Int, n >= 0 else { return nil }
        return n
    }

    public func storedRange(of tensor: TensorInfo) -> StoredRange? {
        offsets[tensor.name].map { StoredRange(path: path, offset: dataStart + $0, count: tensor.byteCount) }
    }

    public func discard(_ tensor: TensorInfo) {
        if let start = offsets[tensor.name] { file.discard(offset: dataStart + start, count: tensor.byteCount) }
    }

    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try body(try mappedBytes(of: tensor).bytes)
    }

    public func mappedBytes(of tensor: TensorInfo) throws -> MappedBytes {
        guard let start = offsets[tensor.name] else {
            throw CkptError(.tensorNotFound, file: path, tensor: tensor.name, "no such tensor")
        }
        return MappedBytes(
            bytes: try file.slice(offset: dataStart + start, count: tensor.byteCount, tensor: tensor.name), owner: file)
    }
}
