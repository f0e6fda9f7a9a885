import CkptCore
import CkptFormats
import CkptMappings
import Foundation
import Synchronization

extension WeightStore {
    /// The tensors of a conversion plan into the native layout, as float32, but those `skip`
    /// names: on every core at once (reading, checksums and copies are memory-bound; libhdf5,
    /// which is not thread-safe, reads alone).
    public static func load(_ setup: ConversionSetup, skip: (String) -> Bool = { _ in false }) throws -> WeightStore {
        let outputs = setup.plan.outputs.filter { o in
            guard let native = o.nativeName else { return false }
            return DTypeCast.canCast(o.dtype, to: .float32) && !skip(native)
        }
        let loaded = ConcurrentSlots<Result<Tensor, any Error>>(count: outputs.count)
        let workers = setup.source.readsConcurrently ? ProcessInfo.processInfo.activeProcessorCount : 1
        let reader = SharedReader(source: setup.source)
        // Largest first, each worker taking the next when done: the word embeddings (a sixth of
        // BERT-base) do not leave one worker with more than its share.
        let order = outputs.indices.sorted { outputs[$0].byteCount > outputs[$1].byteCount }
        let next = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: min(workers, max(outputs.count, 1))) { _ in
            while true {
                let k = next.withLock { k in
                    defer { k += 1 }
                    return k
                }
                guard k < order.count else { return }
                loaded.set(order[k], Result { try tensor(outputs[order[k]], from: reader.source) })
            }
        }
        var tensors: [String: Tensor] = [:]
        for (o, result) in zip(outputs, loaded.all) { tensors[o.nativeName!] = try result.get() }
        let available = Set(setup.plan.outputs.compactMap(\.nativeName))
        return WeightStore(tensors: tensors, origin: setup.source.path, available: available)
    }

    static func tensor(_ output: PlannedOutput, from source: any TensorSource) throws -> Tensor {
        if let borrowed = try borrowed(output, from: source) { return borrowed }
        let count = output.shape.reduce(1, *)
        // Not zeroed first: every value is written below (checked after).
        var values = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        values.withUnsafeMutableBytes { MemoryAdvice.hugePages($0) }
        var offset = 0
        let dtype = output.dtype
        try TensorAssembly.produce(output, from: source) { bytes in
            let n = bytes.count / dtype.itemSize!
            guard offset + n <= count else {
                throw CkptError(.sizeMismatch, file: source.path, tensor: output.name, "more values than its shape")
            }
            values.withUnsafeMutableBytes { dst in
                let piece = UnsafeMutableRawBufferPointer(rebasing: dst[(offset * 4)..<((offset + n) * 4)])
                DTypeCast.convert(bytes, from: dtype, into: piece, to: .float32)
            }
            offset += n
        }
        guard offset == count else {
            throw CkptError(
                .sizeMismatch, file: source.path, tensor: output.name, "produced \(offset) values, expected \(count)")
        }
        return Tensor(shape: output.shape, values: values, dtype: dtype)
    }

    /// The output as its float32 bytes lie in the source's mapping (checksums verified), when the
    /// native layout is the source's and nothing is cast, pruned or fused: no copy, no fresh memory.
    static func borrowed(_ output: PlannedOutput, from source: any TensorSource) throws -> Tensor? {
        guard output.generator == nil, output.selection == nil, output.dtype == .float32, output.inputs.count == 1,
            output.inputs[0].keepsBytes, output.inputs[0].source.dtype == .float32,
            output.shape.reduce(1, *) * 4 == output.inputs[0].source.byteCount,
            let mapped = try source.mappedBytes(of: output.inputs[0].source),
            mapped.bytes.count == output.inputs[0].source.byteCount, let values = FloatArray(borrowing: mapped)
        else { return nil }
        return Tensor(shape: output.shape, values: values, dtype: .float32)
    }
}

extension ReferenceModel {
    /// The model of a checkpoint in any format ckpt reads, through its family's mapping; with a
    /// `request`, only the weights its outputs need are loaded (the heads it does not ask for
    /// are left in the file).
    public init(setup: ConversionSetup, for request: ForwardRequest? = nil) throws {
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
            family: setup.plan.family, spec: spec,
            weights: try WeightStore.load(setup, skip: request.map(Self.unneeded) ?? { _ in false }),
            config: setup.config,
            layers: setup.plan.layerCount, geometry: geometry)
        if setup.plan.sourceLayout == .hf { t5Convention = .transformers }
    }
}

extension ReferenceModel {
    /// Whether a request leaves a weight unused: the heads (and the pooler) it does not ask for.
    static func unneeded(by request: ForwardRequest) -> (String) -> Bool {
        var wanted = request.heads
        if request.application != .encoder { wanted.insert(.mlm) }
        let prefixes: [(Head, [String])] = [
            (.pool, ["pooler."]), (.nsp, ["heads.nsp.", "pooler."]), (.mlm, ["heads.mlm."]),
            (.discriminator, ["heads.discriminator."]),
        ]
        let needed = Set(prefixes.filter { wanted.contains($0.0) }.flatMap(\.1))
        let optional = Set(prefixes.flatMap(\.1)).subtracting(needed)
        return { name in optional.contains { name.hasPrefix($0) } }
    }
}

/// A source read by several workers at once (`readsConcurrently`).
private struct SharedReader: @unchecked Sendable {
    let source: any TensorSource
}
