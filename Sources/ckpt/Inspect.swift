import ArgumentParser
import CkptCore
import CkptFormats
import CkptMappings
import Foundation

/// `ckpt inspect PATH`: every tensor with dtype, shape and size, the format, the detected
/// architecture and the totals; `--json` for scripts, `--stats` for value statistics.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a checkpoint with dtype, shape and size, and detect its architecture.")

    @Argument(
        help: ArgumentHelp(
            "A TF bundle (prefix, .index, data shard or folder), Keras .h5, .safetensors (file or sharded "
                + "folder), PyTorch .bin (file or sharded folder) or .npz."), completion: .file())
    var path: String

    @Flag(
        help: ArgumentHelp(
            "Print JSON: {format, architecture, total_parameters, model_parameters, optimizer_parameters, "
                + "total_bytes, tensors}.")
    )
    var json = false

    @Flag(help: "Add min/max/mean/std and NaN/Inf counts for each floating-point tensor (reads all data once).")
    var stats = false

    @Option(help: "Only tensors whose name matches this glob (* and ?), or contains it when it has neither.")
    var filter: String?

    @Flag(help: "Also list format bookkeeping entries, such as TF2's _CHECKPOINTABLE_OBJECT_GRAPH.")
    var all = false

    @Option(
        help: "An extra mapping table (JSON, as in Mappings/) for a family the binary does not know; may be repeated.",
        completion: .file())
    var mapping: [String] = []

    @Option(help: "Show one tensor (its name as the file spells it): dtype, shape, statistics and values.")
    var tensor: String?

    @Option(help: "With --tensor: how many values to show, or all.")
    var values: ValueCount = ValueCount(limit: 10)

    struct ValueCount: ExpressibleByArgument {
        let limit: Int?
        init(limit: Int?) { self.limit = limit }
        init?(argument: String) {
            if argument == "all" {
                limit = nil
            } else if let n = Int(argument), n >= 0 {
                limit = n
            } else {
                return nil
            }
        }
        var defaultValueDescription: String { limit.map(String.init) ?? "all" }
    }

    @OptionGroup var verbosity: Verbosity

    func run() throws {
        let tables = try MappingTable.load(mapping)
        let source = try CheckpointOpener.open(path)
        if let tensor {
            let report = try TensorReport(source: source, name: tensor, limit: values.limit)
            print(json ? report.json() : report.text(), terminator: "")
            return
        }
        let folder = FileSystem.isDirectory(path) ? path : FileSystem.dirname(source.path)
        let report = try InspectReport(
            source: source, includeBookkeeping: all, filter: filter, withStats: stats,
            tables: MappingTable.with(tables), config: try? ModelConfig.find(besides: folder))
        print(json ? report.json() : report.table(), terminator: "")
        if let filter, report.rows.isEmpty {
            let closest = NameFilter.closest(to: filter, among: source.tensors.map(\.name))
            verbosity.say("ckpt: no tensor matches '\(filter)'; closest names: \(closest.joined(separator: ", "))")
        }
    }
}
