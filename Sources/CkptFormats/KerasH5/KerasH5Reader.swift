import CkptCore

/// A Keras 2 HDF5 weights file, as keras/src/saving/legacy/hdf5_format.py writes it:
/// `save_weights` files keep the root attributes `layer_names` (and `backend`, `keras_version`),
/// each layer a group with the attribute `weight_names`, each weight a dataset at that name
/// inside the layer's group. Full-model files (`model.save`) hold the same under `model_weights`.
/// Tensor names are the `weight_names` entries (e.g. `Embedding-Token/embeddings:0`).
public final class KerasH5Reader: TensorSource {
    public let formatName = "keras_h5"
    public let path: String
    public let tensors: [TensorInfo]
    /// `weights` for save_weights files, `full_model` for model.save files.
    public let kind: String
    public let layerNames: [String]
    public let backend: String?
    public let kerasVersion: String?

    public var details: [(key: String, value: String)] {
        [
            ("kind", kind), ("keras_version", kerasVersion ?? "-"), ("backend", backend ?? "-"),
            ("layer_names", "\(layerNames.count) layers"),
        ]
    }

    private let file: HDF5Handle
    private let root: HDF5Handle
    /// Tensor name to (layer, dataset path inside the layer group).
    private let locations: [String: (layer: String, dataset: String)]

    /// The libhdf5 in use, `major.minor.release`.
    public static var libraryVersion: String { HDF5.libraryVersion }

    /// The 8-byte HDF5 signature, found at offset 0 (or 512, 1024... after a user block).
    public static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]

    public init(path: String) throws {
        self.path = path
        guard try MappedFile(path: path).prefix(8) == Self.signature else {
            throw CkptError(.badMagic, file: path, "not an HDF5 file (signature missing)")
        }
        file = try HDF5.openFile(path)
        if HDF5.attributeExists(file, "layer_names") || HDF5.attributeExists(file, "layer_names0") {
            root = file
            kind = "weights"
        } else if HDF5.linkExists(file, "model_weights") {
            root = try HDF5.openGroup(file, "model_weights", file: path)
            kind = "full_model"
        } else {
            throw CkptError(
                .unknownFormat, file: path, "HDF5 file without Keras 'layer_names' (not a Keras weights file)")
        }
        layerNames = try Self.chunkedStrings(root, "layer_names", file: path)
        backend =
            HDF5.attributeExists(root, "backend") ? try HDF5.stringAttribute(root, "backend", file: path).first : nil
        kerasVersion =
            HDF5.attributeExists(root, "keras_version")
            ? try HDF5.stringAttribute(root, "keras_version", file: path).first : nil

        var infos: [TensorInfo] = []
        var locations: [String: (layer: String, dataset: String)] = [:]
        let fileSize = FileSystem.size(path) ?? 0
        for layer in layerNames {
            let group = try HDF5.openGroup(root, layer, file: path)
            let names = try Self.chunkedStrings(group, "weight_names", file: path)
            for (k, w) in names.enumerated() {
                guard locations[w] == nil else {
                    throw CkptError(.malformed, file: path, tensor: w, "weight name appears in two layers")
                }
                let dset = try HDF5.openDataset(group, w, file: path)
                let d = try HDF5.describe(dset, file: path, name: w)
                guard let bytes = ShapeMath.byteCount(d.shape, d.dtype) else {
                    throw CkptError(
                        .sizeMismatch, file: path, tensor: w, "shape \(ShapeMath.describe(d.shape)) overflows")
                }
                // Keras writes datasets uncompressed; allow compression, but not a claim of more
                // than 64 bytes of data per byte of file (a corrupt shape would allocate terabytes).
                guard bytes / 64 <= fileSize else {
                    throw CkptError(
                        .sizeMismatch, file: path, tensor: w,
                        "shape \(ShapeMath.describe(d.shape)) claims \(bytes) bytes in a file of \(fileSize)")
                }
                infos.append(
                    TensorInfo(name: w, dtype: d.dtype, shape: d.shape, byteCount: bytes, group: layer, indexInGroup: k)
                )
                locations[w] = (layer, w)
            }
        }
        tensors = infos
        self.locations = locations
    }

    /// A string-list attribute as Keras' load_attributes_from_hdf5_group reads it: `name`, or its
    /// chunks `name0`, `name1`... (Keras splits lists over HDF5's 64 KB header limit); none is empty.
    static func chunkedStrings(_ obj: HDF5Handle, _ name: String, file: String) throws -> [String] {
        if HDF5.attributeExists(obj, name) { return try HDF5.stringAttribute(obj, name, file: file) }
        var values: [String] = []
        var k = 0
        while HDF5.attributeExists(obj, "\(name)\(k)") {
            values += try HDF5.stringAttribute(obj, "\(name)\(k)", file: file)
            k += 1
        }
        return values
    }

    /// The layer a tensor belongs to.
    public func layer(of tensor: String) -> String? { locations[tensor]?.layer }

    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let loc = locations[tensor.name] else {
            throw CkptError(.tensorNotFound, file: path, tensor: tensor.name, "no such weight")
        }
        let group = try HDF5.openGroup(root, loc.layer, file: path)
        let dset = try HDF5.openDataset(group, loc.dataset, file: path)
        var buffer = [UInt8](repeating: 0, count: tensor.byteCount)
        try buffer.withUnsafeMutableBytes { try HDF5.read(dset, into: $0, file: path, name: tensor.name) }
        return try buffer.withUnsafeBytes(body)
    }
}
