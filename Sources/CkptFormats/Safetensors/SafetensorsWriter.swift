import CkptCore
import Foundation

/// One tensor of a safetensors file to be written.
public struct SafetensorsEntry: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    public var byteCount: Int { ShapeMath.byteCount(shape, dtype) ?? 0 }
}

/// Writes a `.safetensors` file as the tensors stream past: the header (every name, dtype, shape
/// and offset) is known up front from the plan, so data is appended in order and never held.
/// The header is padded with spaces to a multiple of 8 bytes, as the safetensors library does.
public final class SafetensorsWriter {
    public let path: String
    private let file: OutputFile
    private let expectedDataBytes: Int
    private var dataBytes = 0

    /// `dataPhase`: where the data should start modulo 64 KiB — the offset, in its own file, of
    /// the first source byte that will be copied by the kernel (see `header`).
    public init(path: String, entries: [SafetensorsEntry], metadata: [String: String], dataPhase: Int = 0) throws {
        self.path = path
        for e in entries where e.dtype.safetensorsCode == nil {
            throw CkptError(
                .unsupported, file: path, tensor: e.name, "safetensors has no dtype for \(e.dtype.rawValue)")
        }
        expectedDataBytes = entries.reduce(0) { $0 + $1.byteCount }
        let header = Self.header(entries, metadata: metadata, dataBytes: expectedDataBytes, dataPhase: dataPhase)
        file = try OutputFile(path: path)
        file.preallocate(8 + header.count + expectedDataBytes)
        var prefix = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init)
        prefix += header
        try file.write(prefix)
    }

    /// The JSON header: `__metadata__` first, then the tensors in data order, padded with spaces
    /// (the format allows any trailing whitespace) so that the data starts on a 4096-byte
    /// boundary, or, for data of 1 MiB and more, at `dataPhase` modulo 64 KiB. Why: the kernel's
    /// file-to-file copy moves page-cache folios (up to 64 KiB and more on ext4), and a
    /// destination offset in the same phase as the source's keeps them whole: measured on a
    /// BERT-base TF checkpoint (data from offset 0), copying to offset 65536 took 0.119 s, to
    /// offset 24576 0.17 s (with the folder's removal by the next run: 24 vs 35 ms).
    public static func header(
        _ entries: [SafetensorsEntry], metadata: [String: String], dataBytes: Int = 0,
        dataPhase: Int = 0
    ) -> [UInt8] {
        var pairs: [(String, String)] = []
        if !metadata.isEmpty {
            pairs.append(
                (
                    "__metadata__",
                    JSONText.object(metadata.sorted { $0.key < $1.key }.map { ($0.key, JSONText.string($0.value)) })
                ))
        }
        var offset = 0
        for e in entries {
            pairs.append(
                (
                    e.name,
                    JSONText.object([
                        ("dtype", JSONText.string(e.dtype.safetensorsCode!)),
                        ("shape", JSONText.array(e.shape)),
                        ("data_offsets", JSONText.array([offset, offset + e.byteCount])),
                    ])
                ))
            offset += e.byteCount
        }
        var bytes = Array(JSONText.object(pairs).utf8)
        let (modulus, phase) = dataBytes >= 1 << 20 ? (65536, dataPhase & 65535 & ~4095) : (4096, 0)
        let start = (8 + bytes.count + modulus - 1 - phase) / modulus * modulus + phase
        bytes += [UInt8](repeating: 0x20, count: start - 8 - bytes.count)
        return bytes
    }

    /// Appends the next bytes of tensor data (tensors in entry order, each possibly in pieces).
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard dataBytes + bytes.count <= expectedDataBytes else {
            throw CkptError(.sizeMismatch, file: path, "more tensor data than the header declares")
        }
        try file.write(bytes)
        dataBytes += bytes.count
    }

    /// Appends bytes straight from another file (see `OutputFile.append(_:)`).
    public func append(_ range: StoredRange) throws {
        guard dataBytes + range.count <= expectedDataBytes else {
            throw CkptError(.sizeMismatch, file: path, "more tensor data than the header declares")
        }
        try file.append(range)
        dataBytes += range.count
    }

    public func finish() throws {
        guard dataBytes == expectedDataBytes else {
            throw CkptError(
                .sizeMismatch, file: path,
                "wrote \(dataBytes) bytes of tensor data, header declares \(expectedDataBytes)")
        }
        try file.close()
    }

    /// Splits tensors, in order, into shards of at most `maxBytes` of data (a larger tensor gets a
    /// shard of its own), as transformers' `shard_checkpoint` does.
    public static func shards(_ entries: [SafetensorsEntry], maxBytes: Int?) -> [[SafetensorsEntry]] {
        guard let maxBytes else { return [entries] }
        var shards: [[SafetensorsEntry]] = [[]]
        var size = 0
        for e in entries {
            if !shards[shards.count - 1].isEmpty && size + e.byteCount > maxBytes {
                shards.append([])
                size = 0
            }
            shards[shards.count - 1].append(e)
            size += e.byteCount
        }
        return shards
    }

    /// `model.safetensors`, or `model-0000k-of-0000n.safetensors` when sharded.
    public static func shardName(_ k: Int, of n: Int) -> String {
        guard n > 1 else { return "model.safetensors" }
        func pad(_ v: Int) -> String {
            let s = String(v); return String(repeating: "0", count: max(0, 5 - s.count)) + s
        }
        return "model-\(pad(k + 1))-of-\(pad(n)).safetensors"
    }

    /// The Hugging Face index of a sharded checkpoint.
    public static func index(_ shards: [[SafetensorsEntry]]) -> [UInt8] {
        var map: [String: String] = [:]
        var total = 0
        for (k, shard) in shards.enumerated() {
            for e in shard {
                map[e.name] = shardName(k, of: shards.count)
                total += e.byteCount
            }
        }
        let object: [String: Any] = ["metadata": ["total_size": total], "weight_map": map]
        return JSONDocument.bytes(object)
    }
}
