import CkptCore
import CkptFormats
import CkptMappings

extension WeightStore {
    /// Every tensor of a conversion plan into the native layout, as float32.
    public static func load(_ setup: ConversionSetup) throws -> WeightStore {
        var tensors: [String: Tensor] = [:]
        for output in setup.plan.outputs {
            guard let native = output.nativeName else { continue }
            let count = output.shape.reduce(1, *)
            // Not zeroed first: every value is written below (checked after).
            var values = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
            var offset = 0
            let dtype = output.dtype
            guard DTypeCast.canCast(dtype, to: .float32) else { continue }
            try TensorAssembly.produce(output, from: setup.source) { bytes in
                let n = bytes.count / dtype.itemSize!
                values.withUnsafeMutableBytes { dst in
                    let piece = UnsafeMutableRawBufferPointer(rebasing: dst[(offset * 4)..<((offset + n) * 4)])
                    DTypeCast.convert(bytes, from: dtype, into: piece, to: .float32)
                }
                offset += n
            }
            guard offset == count else {
                throw CkptError(
                    .sizeMismatch, file: setup.source.path, tensor: output.name,
                    "produced \(offset) values, expected \(count)")
            }
            tensors[native] = Tensor(shape: output.shape, values: values, dtype: dtype)
        }
        return WeightStore(tensors: tensors, origin: setup.source.path)
    }
}

extension ReferenceModel {
    /// The model of a checkpoint in any format ckpt reads, through its family's mapping.
    public init(setup: ConversionSetup) throws {
        guard setup.plan.targetLayout == .native else {
            throw CkptError(.unsupported, file: setup.source.path, "the forward pass reads native names")
        }
        guard let spec = setup.table.forward, let geometry = try ModelGeometry(setup: setup) else {
            throw CkptError(
                .unsupported, file: setup.source.path,
                "the \(setup.plan.family) family's table has no forward block: ckpt converts it but cannot run it")
        }
        // Sizes and shapes first (names and shapes only), then the values.
        try self.init(
            family: setup.plan.family, spec: spec, weights: try WeightStore.load(setup), config: setup.config,
            layers: setup.plan.layerCount, geometry: geometry)
        if setup.plan.sourceLayout == .hf { t5Convention = .transformers }
    }
}
