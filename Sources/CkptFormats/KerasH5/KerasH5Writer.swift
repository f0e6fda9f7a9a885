import CkptCore

/// One layer of a Keras weights file: its name and its weights in `layer.weights` order.
public struct KerasLayerEntry: Sendable {
    public let name: String
    public let weights: [KerasWeightEntry]

    public init(name: String, weights: [KerasWeightEntry]) {
        self.name = name
        self.weights = weights
    }
}

/// One weight: its Keras name (`Layer/sub/kernel:0`, also its dataset path inside the layer's
/// group), dtype and shape, and the key the caller knows it by.
public struct KerasWeightEntry: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let key: String

    public init(name: String, dtype: DType, shape: [Int], key: String) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.key = key
    }
}

/// Writes the skeleton of a Keras 2 `save_weights` HDF5 file as keras/src/saving/legacy/
/// hdf5_format.py lays it out: root attributes `backend`, `keras_version`, `layer_names` (every
/// layer, in `model.layers` order, which is how `load_weights` matches them), one group per layer
/// with `weight_names`, one dataset per weight at that name. The datasets' space is allocated
/// but not written: `create` returns where each one's bytes go, for the caller to fill with plain
/// file I/O (streamed, or copied by the kernel) after libhdf5 has closed the file.
public enum KerasH5Writer {
    /// Keras splits an attribute above this many bytes into `name0`, `name1`... (HDF5's object
    /// header limit).
    static let attributeLimit = 64512

    /// Creates `path` (it must not exist); returns each weight's key to its data offset.
    public static func create(
        path: String, layers: [KerasLayerEntry], backend: String = "tensorflow",
        kerasVersion: String = "2.15.0"
    ) throws -> [String: Int] {
        let file = try HDF5.createFile(path)
        try HDF5.writeStrings(file, "backend", [backend], scalar: true, file: path)
        try HDF5.writeStrings(file, "keras_version", [kerasVersion], scalar: true, file: path)
        try writeChunked(file, "layer_names", layers.map(\.name), file: path)
        var offsets: [String: Int] = [:]
        for layer in layers {
            let group = try HDF5.createGroup(file, layer.name, file: path)
            try writeChunked(group, "weight_names", layer.weights.map(\.name), file: path)
            var subgroups: [String: HDF5Handle] = [:]
            for w in layer.weights {
                // A weight name is a path inside the layer's group: its folders become groups.
                let parts = w.name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                guard !parts.contains(where: \.isEmpty), !parts.contains("."), !parts.contains("..") else {
                    throw CkptError(.malformed, file: path, tensor: w.name, "not a valid Keras weight name")
                }
                var parent = group
                var prefix = ""
                for folder in parts.dropLast() {
                    prefix += "/" + folder
                    if let g = subgroups[prefix] {
                        parent = g
                    } else {
                        let g = try HDF5.createGroup(parent, folder, file: path)
                        subgroups[prefix] = g
                        parent = g
                    }
                }
                guard offsets[w.key] == nil else {
                    throw CkptError(.malformed, file: path, tensor: w.name, "weight written twice")
                }
                offsets[w.key] = try HDF5.createAllocatedDataset(
                    parent, parts.last!, dtype: w.dtype, shape: w.shape, file: path)
            }
        }
        try HDF5.close(file, file: path)
        return offsets
    }

    /// As Keras' save_attributes_to_hdf5_group: one attribute, or chunks `name0`, `name1`... when
    /// the strings exceed the header limit.
    static func writeChunked(_ obj: HDF5Handle, _ name: String, _ values: [String], file: String) throws {
        // Keras measures the NumPy array of the encoded names: longest name × count bytes.
        let width = values.map(\.utf8.count).max() ?? 0
        guard width * values.count > attributeLimit else {
            try HDF5.writeStrings(obj, name, values, file: file)
            return
        }
        var chunks = 1
        while (width * values.count + chunks - 1) / chunks > attributeLimit { chunks += 1 }
        let size = (values.count + chunks - 1) / chunks
        for (k, start) in stride(from: 0, to: values.count, by: size).enumerated() {
            try HDF5.writeStrings(
                obj, "\(name)\(k)", Array(values[start..<min(values.count, start + size)]), file: file)
        }
    }
}
