import ArgumentParser
import CkptCore
import CkptMappings
import CkptModels
import Foundation

/// `ckpt verify SRC CONVERTED`: same weights (within a dtype cast's rounding) and same forward
/// outputs on random inputs; exit 0 only when both hold.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove a conversion right: identical weights and matching forward outputs on random inputs.")

    @Argument(help: "The original checkpoint.")
    var source: String

    @Argument(help: "The converted checkpoint (any format and layout ckpt reads).")
    var converted: String

    @Option(help: "Number of random input sequences.")
    var random = 3

    @Option(help: "Allowed max difference of each output over its scale max(1, max |value|) (default 1e-5, or 1e-2 after a cast to float16/bfloat16).")
    var tolerance: Float?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard random >= 0 else { throw ValidationError("--random must be 0 or more") }
    }

    func run() throws {
        // Each side runs with its own config (the converted side falls back on the source's when it
        // has none): a converted config that builds another model is a failed conversion.
        let left = try modelOptions.setup(source)
        let family = left.plan.family
        var right = try modelOptions.setup(converted, family: family, configPath: .some(nil))
        if right.config == nil, let path = left.config?.path {
            right = try modelOptions.setup(converted, family: family, configPath: path)
        }
        let a = try ReferenceModel(setup: left), b = try ReferenceModel(setup: right)
        var ok = true
        let configDifferences = a.geometry.differences(from: b.geometry)
        if !configDifferences.isEmpty {
            ok = false
            print("config: \(right.config?.path ?? converted) builds another model: \(configDifferences.joined(separator: "; "))")
        }
        for note in a.geometry.approximationNotes(from: b.geometry) {
            print("note: the converted config approximates an activation differently (\(note))")
        }
        let weights = WeightComparison(a.weightStore, b.weightStore)
        // Weights the converted layout has no name for (RoFormer's pooler in transformers) are
        // dropped by design; they are reported, not counted against the conversion.
        let unrepresentable = Set(weights.onlyInA.filter { !Self.representable($0, in: right) })
        ok = ok && (weights.sameValues || (weights.onlyInB.isEmpty && weights.onlyInA.allSatisfy(unrepresentable.contains)
                                        && weights.compared.allSatisfy(\.equalAtTargetPrecision)))
        print("weights: \(weights.compared.count) compared, \(weights.onlyInA.count) only in source, \(weights.onlyInB.count) only in converted, "
              + "\(weights.compared.filter { !$0.equalAtTargetPrecision }.count) differing")
        for n in weights.onlyInA.prefix(5) {
            print("  only in source: \(n)" + (unrepresentable.contains(n) ? " (no name in the \(right.plan.sourceLayout) layout)" : ""))
        }
        for n in weights.onlyInB.prefix(5) { print("  only in converted: \(n)") }
        for e in weights.compared.filter({ !$0.equalAtTargetPrecision }).prefix(5) {
            print("  differs: \(e.name) (max abs \(e.maxAbsolute))")
        }
        let cast = b.weightStore.tensors.values.contains { $0.dtype == .float16 || $0.dtype == .bfloat16 }
            && !a.weightStore.tensors.values.contains { $0.dtype == .float16 || $0.dtype == .bfloat16 }
        let limit = tolerance ?? (cast ? 1e-2 : 1e-5)
        var worst: [String: Float] = [:]
        let heads = Set(a.availableHeads).intersection(b.availableHeads)
        for var request in RandomInputs.requests(a, count: random) {
            request.heads = request.heads.intersection(heads)
            let x = try a.run(request), y = try b.run(request)
            for out in x.arrays {
                guard let other = y[out.name] else { worst[out.name] = .infinity; continue }
                // Max difference over the output's scale: absolute for outputs within [-1, 1]
                // (probabilities), relative to the largest magnitude for hidden states.
                var m: Float = 0, scale: Float = 1
                for i in out.values.indices {
                    let (x, y) = (out.values[i], other.values[i])
                    // NaN on one side only is a difference; Swift's max would skip it.
                    let d = x.isNaN || y.isNaN ? (x.isNaN && y.isNaN ? 0 : Float.infinity) : abs(x - y)
                    m = max(m, d)
                    scale = max(scale, abs(x).isNaN ? 0 : abs(x))
                }
                let d = m / scale
                worst[out.name] = max(worst[out.name] ?? 0, d.isNaN ? .infinity : d)
            }
        }
        for (name, diff) in worst.sorted(by: { $0.key < $1.key }) {
            print("output \(name): max difference \(diff) (tolerance \(limit))")
            if !(diff <= limit) { ok = false }
        }
        guard ok else {
            throw CkptError(.checksumMismatch, file: converted, "does not compute what \(source) computes (see above)")
        }
        print("verified: \(converted) matches \(source)")
    }

    /// Whether a canonical weight has a name in the layout the converted checkpoint uses.
    static func representable(_ native: String, in setup: ConversionSetup) -> Bool {
        let layout = setup.plan.sourceLayout
        guard layout != "native" else { return true }
        return setup.table.rules.contains { rule in
            rule.layouts[layout] != nil && (0..<max(1, setup.plan.layerCount)).contains { LayerTemplate.expand(rule.native, layer: $0) == native }
        }
    }
}
