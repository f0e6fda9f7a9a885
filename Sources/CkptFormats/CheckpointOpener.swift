import CkptCore
import Foundation

/// Opens whatever a user points at with the reader its format needs, from the path's shape and
/// the file's first bytes: a TF bundle (prefix, `.index`, data shard, folder with `checkpoint`),
/// a Keras HDF5 file, a safetensors file or sharded folder, a PyTorch `.bin` (zip or legacy, or
/// sharded), or an `.npz` archive.
public enum CheckpointOpener {
    public static func open(_ path: String) throws -> any TensorSource {
        if FileSystem.isDirectory(path) { return try openFolder(path) }
        if path.hasSuffix(".index") || BundlePath.dataShardPrefix(path) != nil {
            return try TFBundleReader(path: path)
        }
        if !FileSystem.exists(path) {
            if FileSystem.exists(BundlePath.indexFile(path)) { return try TFBundleReader(prefix: path) }
            throw CkptError(.fileNotFound, file: path, "no such file or directory")
        }
        if ShardedReader.indexNames.contains(where: path.hasSuffix) { return try ShardedReader(path: path) }
        let head = try MappedFile(path: path).prefix(15)
        let first = Array(head.prefix(8))
        if first == KerasH5Reader.signature { return try KerasH5Reader(path: path) }
        if first.starts(with: GGUFFormat.magic) { return try GGUFReader(path: path) }
        if first.starts(with: [0x50, 0x4b, 0x03, 0x04]) || first.starts(with: [0x50, 0x4b, 0x05, 0x06]) {
            // torch.save's zip holds `<name>/data.pkl`; numpy's holds `.npy` members.
            return try ZipDirectory.holdsTorchPickle(path) ? TorchReader(path: path) : NPZReader(path: path)
        }
        if head.count == 15, head[0] == 0x80, Array(head[2...]) == TorchFileLayout.legacyMagic {
            return try TorchReader(path: path)
        }
        if path.hasSuffix(".safetensors") { return try SafetensorsReader(path: path) }
        if path.hasSuffix(".h5") || path.hasSuffix(".hdf5") || path.hasSuffix(".keras") {
            return try KerasH5Reader(path: path)
        }
        if path.hasSuffix(".npz") { return try NPZReader(path: path) }
        if torchSuffixes.contains(where: path.hasSuffix) { return try TorchReader(path: path) }
        if FileSystem.exists(BundlePath.indexFile(path)) { return try TFBundleReader(prefix: path) }
        // Last: a safetensors file under another name starts with a small length and '{'.
        if head.count >= 9, head[8] == UInt8(ascii: "{") { return try SafetensorsReader(path: path) }
        throw CkptError(
            .unknownFormat, file: path,
            "not a format ckpt reads (TF bundle, Keras HDF5, safetensors, PyTorch, npz, GGUF)")
    }

    static let torchSuffixes = [".bin", ".pt", ".pth"]

    /// A folder: shards by their index, a TF bundle, or its one checkpoint file, preferring
    /// safetensors over `pytorch_model.bin` as transformers does (a Hub folder often has both).
    private static func openFolder(_ path: String) throws -> any TensorSource {
        let names = FileSystem.contents(of: path)
        if names.contains(ShardedReader.safetensorsIndex) { return try ShardedReader(path: path) }
        if names.contains("checkpoint") || names.contains(where: { $0.hasSuffix(".index") }) {
            return try TFBundleReader(path: path)
        }
        let safetensors = names.filter { $0.hasSuffix(".safetensors") }
        if safetensors.count == 1 { return try open(FileSystem.join(path, safetensors[0])) }
        if names.contains(ShardedReader.pytorchIndex) { return try ShardedReader(path: path) }
        if names.contains("pytorch_model.bin") {
            return try TorchReader(path: FileSystem.join(path, "pytorch_model.bin"))
        }
        for ext in [".h5", ".npz", ".gguf"] + torchSuffixes {
            let matches = names.filter { $0.hasSuffix(ext) }
            if matches.count == 1 { return try open(FileSystem.join(path, matches[0])) }
        }
        throw CkptError(
            .unknownFormat, file: path,
            "folder holds no checkpoint ckpt reads (TF bundle, .h5, .safetensors, pytorch_model.bin, .npz, .gguf)")
    }
}
