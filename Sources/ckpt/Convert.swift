import ArgumentParser
import CkptCore
import CkptFormats
import CkptMappings
import Foundation

/// `ckpt convert SRC --to OUTDIR`: a checkpoint in any format ckpt reads, renamed through the
/// family's table into safetensors (native canonical names, or Hugging Face's), streamed and atomic.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a checkpoint into safetensors with canonical (native) or Hugging Face names.")

    @Argument(help: "Anything `ckpt inspect` reads.")
    var source: String

    @Option(name: .customLong("to"), help: "Output folder (created atomically).")
    var output: String

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Output: native (safetensors, canonical names, TF orientation), hf (Hugging Face transformers), tf (a TF checkpoint with the original release's names), or keras (a bert4keras save_weights HDF5 file, model.h5).")
    var layout: Layout = .native

    @Option(help: "Cast floating-point tensors: keep, float32, float16, bfloat16 (round to nearest even).")
    var dtype: DTypeChoice = .keep

    @Option(help: "Split into shards of at most this size (e.g. 500MB, 2GiB), with model.safetensors.index.json.")
    var maxShardSize: String?

    @Flag(help: "Keep optimizer slots and step counters (dropped by default).")
    var keepOptimizer = false

    @Flag(help: "Keep tensors that no rule maps, under their own names (an error by default).")
    var allowUnmapped = false

    @Flag(help: "Replace an existing, non-empty output folder.")
    var force = false

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    @Option(help: "An extra mapping table (JSON, as in Mappings/); may be repeated.")
    var mapping: [String] = []

    enum Layout: String, ExpressibleByArgument, CaseIterable {
        case native, hf, tf, keras
    }
    enum DTypeChoice: String, ExpressibleByArgument, CaseIterable { case keep, float32, float16, bfloat16 }

    func validate() throws {
        if let s = maxShardSize, ByteSize.parse(s) == nil {
            throw ValidationError("--max-shard-size '\(s)' is not a size (e.g. 500MB, 2GiB, 1000000)")
        }
    }

    func run() throws {
        var planOptions = PlanOptions()
        planOptions.targetLayout = layout.rawValue
        planOptions.dtype = dtype == .keep ? nil : DType(rawValue: dtype.rawValue)
        planOptions.keepOptimizer = keepOptimizer
        planOptions.allowUnmapped = allowUnmapped
        let tables = try mapping.map { try MappingTable.parse(Data(MappedFile.contents(of: $0)), origin: $0) }
        let setup = try ConversionSetup(sourcePath: source, model: modelOptions.model, configPath: modelOptions.config, extraTables: tables,
                                        options: planOptions)

        var write = try setup.standardWriteOptions(sourcePath: source)
        write.force = force
        write.maxShardSize = maxShardSize.flatMap(ByteSize.parse)
        let progress = ProgressLine()
        let result = try Converter.run(setup.plan, source: setup.source, to: output, options: write, progress: progress.update)
        progress.finish()
        let summary = ConvertSummary(setup: setup, result: result)
        if json { print(summary.json()) }
        Output.error(summary.text())
    }
}
