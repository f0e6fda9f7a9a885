import ArgumentParser
import CkptCore
import CkptMappings
import CkptModels
import Foundation

/// `ckpt diff A B`: two checkpoints compared by canonical name; exit 0 when identical.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two checkpoints by canonical name: missing tensors, dtype/shape changes, value differences.")

    @Argument(help: "The first checkpoint (anything `ckpt inspect` reads).", completion: .file())
    var a: String

    @Argument(help: "The second checkpoint, compared with the first by canonical name.", completion: .file())
    var b: String

    @Flag(help: "Print the comparison as JSON.")
    var json = false

    @OptionGroup var modelOptions: ModelOptions

    /// Accepted for scripts that pass it to every command: this one writes only its result
    /// (stdout) and errors.
    @OptionGroup var verbosity: Verbosity

    func run() throws {
        let left = try modelOptions.setup(a)
        let right = try modelOptions.setup(b, family: modelOptions.model == "auto" ? left.plan.family : nil)
        let c = WeightComparison(try WeightStore.load(left), try WeightStore.load(right))
        // Names as each file spells them, the canonical name beside where it differs.
        let namesA = left.userNames, namesB = right.userNames
        func named(_ canonical: String, _ names: [String: String]) -> String {
            guard let own = names[canonical], own != canonical else { return canonical }
            return "\(own) (\(canonical))"
        }
        func both(_ canonical: String) -> String {
            // The files' own names that differ from the canonical one, each once.
            var own: [String] = []
            for n in [namesA[canonical], namesB[canonical]].compactMap({ $0 }) where n != canonical && !own.contains(n)
            {
                own.append(n)
            }
            return own.isEmpty ? canonical : own.joined(separator: " / ") + " (\(canonical))"
        }
        let differing = c.compared.filter { $0.maxAbsolute > 0 }
        let changedNames = Set(c.changed.map(\.name))
        let equal = c.compared.filter { $0.maxAbsolute == 0 && !changedNames.contains($0.name) }.count
        if json {
            let object: [String: Any] = [
                "schema_version": 1, "identical": c.identical,
                "only_in_a": c.onlyInA.map { ["name": namesA[$0] ?? $0, "canonical": $0] },
                "only_in_b": c.onlyInB.map { ["name": namesB[$0] ?? $0, "canonical": $0] },
                "changed": c.changed.map {
                    [
                        "canonical": $0.name, "name_a": namesA[$0.name] ?? $0.name,
                        "name_b": namesB[$0.name] ?? $0.name,
                        "a": $0.a, "b": $0.b,
                    ]
                },
                "tensors": c.compared.map {
                    [
                        "canonical": $0.name, "name_a": namesA[$0.name] ?? $0.name,
                        "name_b": namesB[$0.name] ?? $0.name,
                        "max_abs": Double($0.maxAbsolute), "max_rel": Double($0.maxRelative),
                    ] as [String: Any]
                },
                "summary": [
                    "only_in_a": c.onlyInA.count, "only_in_b": c.onlyInB.count, "changed": c.changed.count,
                    "differing": differing.count, "equal": equal,
                ],
            ]
            print(JSONDocument.text(object), terminator: "")
        } else {
            for n in c.onlyInA { print("only in A: \(named(n, namesA))") }
            for n in c.onlyInB { print("only in B: \(named(n, namesB))") }
            for x in c.changed { print("changed: \(both(x.name)): \(x.a) -> \(x.b)") }
            for e in differing { print("differs: \(both(e.name)): max abs \(e.maxAbsolute), max rel \(e.maxRelative)") }
            print(
                "\(c.onlyInA.count) only in A, \(c.onlyInB.count) only in B, \(c.changed.count) changed, "
                    + "\(differing.count) differing, \(equal) equal" + (c.identical ? ": identical" : ""))
        }
        if !c.identical { throw ExitCode(1) }
    }
}
