import CkptCore
import CkptMappings

/// `verify`: a converted checkpoint builds the same model as its source (config), holds the same
/// weights (within a cast's rounding) and computes the same outputs on random inputs.
public struct Verification {
    /// Config differences (`name a -> b`); any is a failure.
    public let configDifferences: [String]
    /// Differences of approximation only (erf and tanh GELU): reported, not failures.
    public let notes: [String]
    public let weights: WeightComparison
    /// Source weights the converted layout has no name for (dropped by design, not failures).
    public let unrepresentable: Set<String>
    /// The converted side's layout, for messages.
    public let convertedLayout: Layout
    /// Each output's largest difference over its scale, by name.
    public let outputDifferences: [String: Float]
    public let tolerance: Float

    public var ok: Bool {
        let weightsOK =
            weights.sameValues
            || (weights.onlyInB.isEmpty && weights.onlyInA.allSatisfy(unrepresentable.contains)
                && weights.compared.allSatisfy(\.equalAtTargetPrecision))
        return configDifferences.isEmpty && weightsOK && outputDifferences.values.allSatisfy { $0 <= tolerance }
    }

    /// - Parameter tolerance: nil for 1e-5, or 1e-2 when only the converted side was cast to a
    ///   half-precision dtype.
    public init(source: ConversionSetup, converted: ConversionSetup, randomInputs: Int, tolerance: Float?) throws {
        // One T5 convention on both sides (the source's), whatever names the converted side has.
        let a = try ReferenceModel(setup: source)
        var b = try ReferenceModel(setup: converted)
        b.t5Convention = a.t5Convention
        configDifferences = a.geometry.differences(from: b.geometry)
        notes = a.geometry.approximationNotes(from: b.geometry)
        weights = WeightComparison(a.weightStore, b.weightStore)
        let layers = max(1, converted.plan.layerCount)
        unrepresentable = Set(
            weights.onlyInA.filter {
                !converted.table.hasName(forNative: $0, in: converted.plan.sourceLayout, layers: layers)
            })
        convertedLayout = converted.plan.sourceLayout
        func half(_ m: ReferenceModel) -> Bool {
            m.weightStore.tensors.values.contains { $0.dtype == .float16 || $0.dtype == .bfloat16 }
        }
        self.tolerance = tolerance ?? (half(b) && !half(a) ? 1e-2 : 1e-5)
        var worst: [String: Float] = [:]
        let heads = Set(a.availableHeads).intersection(b.availableHeads)
        for var request in RandomInputs.requests(a, count: randomInputs) {
            request.heads = request.heads.intersection(heads)
            let x = try a.run(request), y = try b.run(request)
            for out in x.arrays {
                let d = y[out.name].map { Self.scaledDifference(out.values, $0.values) } ?? .infinity
                worst[out.name] = max(worst[out.name] ?? 0, d)
            }
        }
        outputDifferences = worst
    }

    /// The largest difference over the output's scale max(1, max |x|): absolute for outputs
    /// within [-1, 1] (probabilities), relative to the largest magnitude for hidden states. NaN on
    /// one side only is a difference (Swift's `max` would skip it).
    static func scaledDifference(_ xs: [Float], _ ys: [Float]) -> Float {
        guard xs.count == ys.count else { return .infinity }
        var m: Float = 0, scale: Float = 1
        for (x, y) in zip(xs, ys) {
            var d = abs(x - y)
            if x.isNaN || y.isNaN { d = x.isNaN && y.isNaN ? 0 : .infinity }
            m = max(m, d)
            scale = max(scale, abs(x).isNaN ? 0 : abs(x))
        }
        let r = m / scale
        return r.isNaN ? .infinity : r
    }
}
