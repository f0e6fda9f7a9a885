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

    @Argument(help: "The original checkpoint.", completion: .file())
    var source: String

    @Argument(help: "The converted checkpoint (any format and layout ckpt reads).", completion: .file())
    var converted: String

    @Option(help: "Number of random input sequences.")
    var random = 3

    @Option(
        help: ArgumentHelp(
            "Allowed max difference of each output over its scale max(1, max |value|) "
                + "(default 1e-5, or 1e-2 after a cast to float16/bfloat16).")
    )
    var tolerance: Float?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard random >= 0 else { throw ValidationError("--random must be 0 or more") }
    }

    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    /// Accepted for scripts that pass it to every command: this one writes only its result
    /// (stdout) and errors.
    @OptionGroup var verbosity: Verbosity

    func run() throws {
        // Each side runs with its own config (the converted side falls back on the source's when it
        // has none): a converted config that builds another model is a failed conversion.
        let left = try modelOptions.setup(source)
        let family = left.plan.family
        var right = try modelOptions.setup(converted, family: family, configPath: .some(nil))
        if right.config == nil, let path = left.config?.path {
            right = try modelOptions.setup(converted, family: family, configPath: path)
        }
        let v = try Verification(source: left, converted: right, randomInputs: random, tolerance: tolerance)
        if json { print(Self.json(v), terminator: "") } else { report(v, config: right.config?.path) }
        guard v.ok else {
            throw CkptError(.checksumMismatch, file: converted, "does not compute what \(source) computes (see above)")
        }
        if !json { print("verified: \(converted) matches \(source)") }
    }

    static func json(_ v: Verification) -> String {
        let w = v.weights
        return JSONDocument.text([
            "schema_version": 1, "verified": v.ok, "config_differences": v.configDifferences, "notes": v.notes,
            "weights": [
                "compared": w.compared.count, "only_in_source": w.onlyInA, "only_in_converted": w.onlyInB,
                "differing": w.compared.filter { !$0.equalAtTargetPrecision }.map(\.name),
                "not_in_converted_layout": v.unrepresentable.sorted(),
            ] as [String: Any],
            "outputs": v.outputDifferences.mapValues(Double.init), "tolerance": Double(v.tolerance),
        ])
    }

    func report(_ v: Verification, config: String?) {
        if !v.configDifferences.isEmpty {
            print(
                "config: \(config ?? converted) builds another model: "
                    + "\(v.configDifferences.joined(separator: "; "))"
            )
        }
        for note in v.notes { print("note: the converted config approximates an activation differently (\(note))") }
        let w = v.weights
        let differing = w.compared.filter { !$0.equalAtTargetPrecision }
        print(
            "weights: \(w.compared.count) compared, \(w.onlyInA.count) only in source, "
                + "\(w.onlyInB.count) only in converted, "
                + "\(differing.count) differing")
        for n in w.onlyInA.prefix(5) {
            print(
                "  only in source: \(n)"
                    + (v.unrepresentable.contains(n) ? " (no name in the \(v.convertedLayout) layout)" : ""))
        }
        for n in w.onlyInB.prefix(5) { print("  only in converted: \(n)") }
        for e in differing.prefix(5) { print("  differs: \(e.name) (max abs \(e.maxAbsolute))") }
        for (name, diff) in v.outputDifferences.sorted(by: { $0.key < $1.key }) {
            print("output \(name): max difference \(diff) (tolerance \(v.tolerance))")
        }
    }
}
