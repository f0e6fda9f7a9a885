import ArgumentParser
import CkptCore
import CkptMappings
import CkptModels
import Foundation

/// `ckpt diff A B`: two checkpoints compared by canonical name; exit 0 when identical.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two checkpoints by canonical name: missing tensors, dtype/shape changes, value differences.")

    @Argument(help: "The first checkpoint (anything `ckpt inspect` reads).")
    var a: String

    @Argument(help: "The second checkpoint, compared with the first by canonical name.")
    var b: String

    @Flag(help: "Print the comparison as JSON.")
    var json = false

    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        let left = try modelOptions.setup(a)
        let right = try modelOptions.setup(b, family: modelOptions.model == "auto" ? left.plan.family : nil)
        let c = WeightComparison(try WeightStore.load(left), try WeightStore.load(right))
        if json {
            let object: [String: Any] = [
                "identical": c.identical, "only_in_a": c.onlyInA, "only_in_b": c.onlyInB,
                "changed": c.changed.map { ["name": $0.name, "a": $0.a, "b": $0.b] },
                "tensors": c.compared.map {
                    ["name": $0.name, "max_abs": Double($0.maxAbsolute), "max_rel": Double($0.maxRelative)]
                        as [String: Any]
                },
            ]
            print(JSONDocument.text(object), terminator: "")
        } else {
            for n in c.onlyInA { print("only in A: \(n)") }
            for n in c.onlyInB { print("only in B: \(n)") }
            for x in c.changed { print("changed: \(x.name): \(x.a) -> \(x.b)") }
            for e in c.compared where e.maxAbsolute > 0 {
                print("differs: \(e.name): max abs \(e.maxAbsolute), max rel \(e.maxRelative)")
            }
            print(c.identical ? "identical (\(c.compared.count) tensors)" : "different")
        }
        if !c.identical { throw ExitCode(1) }
    }
}
