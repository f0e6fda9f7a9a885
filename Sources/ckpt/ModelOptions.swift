import ArgumentParser
import CkptCore
import CkptMappings
import Foundation

/// `--model`, `--config` and `--mapping`, shared by the commands that map names through a family's table.
struct ModelOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Model family, or auto to detect it from the names (and the config when they are ambiguous).",
            discussion: "Families: " + MappingTable.builtIn.map(\.family).joined(separator: ", ") + "."),
        completion: .list(["auto"] + MappingTable.builtIn.map(\.family)))
    var model = "auto"

    @Option(
        help: "The model's JSON config (default: bert_config.json, config.json... beside the checkpoint).",
        completion: .file(extensions: ["json"]))
    var config: String?

    @Option(
        help: "An extra mapping table (JSON, as in Mappings/) for a family the binary does not know; may be repeated.",
        completion: .file(extensions: ["json"]))
    var mapping: [String] = []

    func validate() throws {
        // A family name is checked here when no extra table could define it (else by ConversionSetup).
        if model != "auto" && mapping.isEmpty && MappingTable.named(model, among: MappingTable.builtIn) == nil {
            let known = MappingTable.builtIn.map(\.family).sorted().joined(separator: ", ")
            throw ValidationError("--model: unknown family '\(model)' (known: \(known))")
        }
    }

    /// The tables of `--mapping`.
    func tables() throws -> [MappingTable] {
        try MappingTable.load(mapping)
    }

    /// Names, family and plan of `path`: `family` overrides `--model` (the second checkpoint of a
    /// comparison takes the first one's), `configPath` overrides `--config`.
    func setup(
        _ path: String, family: String? = nil, configPath: String?? = nil,
        options: PlanOptions = PlanOptions()
    ) throws -> ConversionSetup {
        try ConversionSetup(
            sourcePath: path, model: family ?? model, configPath: configPath ?? config, extraTables: tables(),
            options: options)
    }

    /// The files these options make a command read (an output must not touch them).
    var readFiles: [String] { mapping + [config].compactMap { $0 } }
}

/// `-q/--quiet`, on every command: nothing on stderr but errors.
struct Verbosity: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing on stderr but errors (no summary, note, warning or progress).")
    var quiet = false

    /// A line for stderr that is not an error.
    func say(_ line: String) { if !quiet { Output.error(line) } }
}
