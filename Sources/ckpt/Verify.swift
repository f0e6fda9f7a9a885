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

    @Option(help: "Largest allowed absolute difference of any output (default 1e-5, or 1e-2 after a cast to float16/bfloat16).")
    var tolerance: Float?

    @Option(help: "Model family of both (default: detected).")
    var model = "auto"

    @Option(help: "The model's JSON config (default: found beside each checkpoint).")
    var config: String?

    func validate() throws {
        guard random >= 0 else { throw ValidationError("--random must be 0 or more") }
    }

    func run() throws {
        let a = try ReferenceModel(setup: ConversionSetup(sourcePath: source, model: model, configPath: config, options: PlanOptions()))
        let b = try ReferenceModel(setup: ConversionSetup(sourcePath: converted, model: model == "auto" ? a.family : model,
                                                         configPath: config, options: PlanOptions()))
        let weights = WeightComparison(a.weightStore, b.weightStore)
        var ok = weights.sameValues
        print("weights: \(weights.compared.count) compared, \(weights.onlyInA.count) only in source, \(weights.onlyInB.count) only in converted, "
              + "\(weights.compared.filter { !$0.equalAtTargetPrecision }.count) differing")
        for n in weights.onlyInA.prefix(5) { print("  only in source: \(n)") }
        for n in weights.onlyInB.prefix(5) { print("  only in converted: \(n)") }
        for e in weights.compared.filter({ !$0.equalAtTargetPrecision }).prefix(5) {
            print("  differs: \(e.name) (max abs \(e.maxAbsolute))")
        }
        let cast = b.weightStore.tensors.values.contains { $0.dtype == .float16 || $0.dtype == .bfloat16 }
            && !a.weightStore.tensors.values.contains { $0.dtype == .float16 || $0.dtype == .bfloat16 }
        let limit = tolerance ?? (cast ? 1e-2 : 1e-5)
        var worst: [String: Float] = [:]
        for request in RandomInputs.requests(a, count: random) {
            let x = try a.run(request), y = try b.run(request)
            for out in x.arrays {
                guard let other = y[out.name] else { worst[out.name] = .infinity; continue }
                var m: Float = 0
                for i in out.values.indices { m = max(m, abs(out.values[i] - other.values[i])) }
                worst[out.name] = max(worst[out.name] ?? 0, m.isNaN ? .infinity : m)
            }
        }
        for (name, diff) in worst.sorted(by: { $0.key < $1.key }) {
            print("output \(name): max abs difference \(diff) (tolerance \(limit))")
            if !(diff <= limit) { ok = false }
        }
        guard ok else {
            throw CkptError(.checksumMismatch, file: converted, "does not compute what \(source) computes (see above)")
        }
        print("verified: \(converted) matches \(source)")
    }
}
