import ArgumentParser
import CkptCore
import CkptFormats
import CkptMappings
import CkptModels
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

    @Flag(help: ArgumentHelp("Replace an existing output folder that ckpt wrote before.",
                             discussion: "Only the files a previous ckpt run wrote there (listed in its .ckpt-output marker) are "
                                 + "replaced; a folder holding anything else is refused, naming the file."))
    var force = false

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false


    enum Layout: String, ExpressibleByArgument, CaseIterable {
        case native, hf, tf, keras
    }
    enum DTypeChoice: String, ExpressibleByArgument, CaseIterable { case keep, float32, float16, bfloat16 }

    func validate() throws {
        if layout == .keras && (dtype == .float16 || dtype == .bfloat16) {
            throw ValidationError("--layout keras writes float32 weights (bert4keras builds its models in float32); "
                                  + "--dtype \(dtype.rawValue) goes with native, hf or tf")
        }
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
        let setup = try modelOptions.setup(source, options: planOptions)

        // A layout a model is built from gets weights of the shapes the family needs (unmapped
        // tensors kept with --allow-unmapped are not the model's, and not checked).
        if layout != .native { _ = try ModelGeometry(setup: setup, complete: false) }
        var write = try setup.standardWriteOptions(sourcePath: source)
        write.force = force
        write.readFiles += modelOptions.readFiles
        write.maxShardSize = maxShardSize.flatMap(ByteSize.parse)
        let progress = ProgressLine()
        let result = try Converter.run(setup.plan, source: setup.source, to: output, options: write, progress: progress.update)
        progress.finish()
        let summary = ConvertSummary(setup: setup, result: result)
        if json { print(summary.json()) }
        Output.error(summary.text())
    }
}
