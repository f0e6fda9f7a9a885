import CkptCore
import Foundation

/// A folder of shards described by an index (`model.safetensors.index.json`,
/// `pytorch_model.bin.index.json`: `{"metadata": {...}, "weight_map": {tensor: shard file}}`, the
/// Hugging Face layout). Shard names must stay inside the folder: absolute paths and `..` are refused.
public final class ShardedReader: TensorSource {
    public let formatName: String
    public let path: String
    public let tensors: [TensorInfo]
    public let shardFiles: [String]

    private let owner: [String: any TensorSource]
    private let shardReaders: [any TensorSource]

    public static let safetensorsIndex = "model.safetensors.index.json"
    public static let pytorchIndex = "pytorch_model.bin.index.json"
    public static let indexNames = [safetensorsIndex, pytorchIndex]

    /// `path` is the folder (safetensors' index first, as transformers prefers it) or an index file.
    public init(path: String) throws {
        let indexPath =
            FileSystem.isDirectory(path)
            ? Self.indexNames.map { FileSystem.join(path, $0) }.first(where: FileSystem.exists)
                ?? FileSystem.join(path, Self.safetensorsIndex)
            : path
        let pytorch = indexPath.hasSuffix(Self.pytorchIndex)
        formatName = pytorch ? "pytorch" : "safetensors"
        let dir = FileSystem.dirname(indexPath)
        self.path = indexPath
        let index = try MappedFile.contents(of: indexPath)
        guard let object = try? JSONSerialization.jsonObject(with: Data(index)), let dict = object as? [String: Any],
            let map = dict["weight_map"] as? [String: Any]
        else { throw CkptError(.malformed, file: indexPath, "not a JSON object with a weight_map") }
        var byShard: [String: [String]] = [:]
        for (tensor, file) in map {
            guard let name = file as? String else {
                throw CkptError(.malformed, file: indexPath, tensor: tensor, "weight_map value is not a file name")
            }
            guard Self.staysInside(name) else {
                throw CkptError(.invalidName, file: indexPath, tensor: tensor, "shard name '\(name)' leaves the folder")
            }
            byShard[name, default: []].append(tensor)
        }
        var readers: [String: any TensorSource] = [:]
        var owner: [String: any TensorSource] = [:]
        var infos: [TensorInfo] = []
        for (name, names) in byShard.sorted(by: { $0.key < $1.key }) {
            let shard = FileSystem.join(dir, name)
            let reader: any TensorSource = pytorch ? try TorchReader(path: shard) : try SafetensorsReader(path: shard)
            readers[name] = reader
            let have = Dictionary(uniqueKeysWithValues: reader.tensors.map { ($0.name, $0) })
            for t in names {
                guard let info = have[t] else {
                    throw CkptError(
                        .tensorNotFound, file: reader.path, tensor: t, "listed in the weight_map but not in this shard")
                }
                owner[t] = reader
                infos.append(info)
            }
        }
        self.owner = owner
        shardFiles = readers.keys.sorted()
        shardReaders = shardFiles.map { readers[$0]! }
        tensors = infos.sorted { $0.name < $1.name }
    }

    /// A relative path with no `..` component.
    static func staysInside(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("/") && !name.split(separator: "/").contains("..") && !name.contains("\\")
    }

    public var files: [String] { [path] + shardReaders.map(\.path) }

    /// The `__metadata__` of the first shard (the index's own metadata holds only sizes).
    public var metadata: [String: String] { shardReaders.first?.metadata ?? [:] }

    public func discard(_ tensor: TensorInfo) { owner[tensor.name]?.discard(tensor) }

    public func mappedBytes(of tensor: TensorInfo) throws -> MappedBytes? {
        try owner[tensor.name]?.mappedBytes(of: tensor)
    }

    public func storedRange(of tensor: TensorInfo) -> StoredRange? { owner[tensor.name]?.storedRange(of: tensor) }

    public var aliases: [String: String] {
        shardReaders.reduce(into: [:]) { all, r in all.merge(r.aliases) { a, _ in a } }
    }

    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let r = owner[tensor.name] else {
            throw CkptError(.tensorNotFound, file: path, tensor: tensor.name, "no such tensor")
        }
        return try r.withBytes(of: tensor, body)
    }
}
