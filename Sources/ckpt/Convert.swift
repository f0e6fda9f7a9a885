import ArgumentParser
import CkptCore
import CkptFormats
import CkptMappings
import CkptVocab
import CkptModels
import Foundation

/// `ckpt convert SRC --to OUTDIR`: a checkpoint in any format ckpt reads, renamed through the
/// family's table into safetensors (native canonical names, or Hugging Face's), streamed and atomic.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a checkpoint into safetensors with canonical (native) or Hugging Face names.")

    @Argument(help: "Anything `ckpt inspect` reads.", completion: .file())
    var source: String

    @OptionGroup var outputOptions: OutputOptions

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Keep optimizer slots and step counters (dropped by default).")
    var keepOptimizer = false

    @Flag(help: "Keep tensors that no rule maps, under their own names (an error by default).")
    var allowUnmapped = false

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    @OptionGroup var verbosity: Verbosity

    func run() throws {
        var planOptions = outputOptions.planOptions()
        planOptions.keepOptimizer = keepOptimizer
        planOptions.allowUnmapped = allowUnmapped
        let setup = try modelOptions.setup(source, options: planOptions)
        let tokenizer =
            planOptions.targetLayout == .hf
            ? try HubTokenizerFiles.files(
                besides: source, opened: setup.source.path, maxPositions: setup.plan.maxPositions,
                vocabularyRows: setup.plan.vocabularyRows) : [:]
        let vocabulary =
            planOptions.targetLayout == .gguf ? try GGUFVocabulary.metadata(for: setup, sourcePath: source) : []
        let progress = ProgressLine(quiet: verbosity.quiet)
        let result = try ConvertJob.run(
            setup, sourcePath: source, to: outputOptions.output,
            adjust: { write in
                outputOptions.apply(to: &write)
                write.readFiles += modelOptions.readFiles
                write.generatedFiles.merge(tokenizer) { ours, _ in ours }
                write.ggufMetadata += vocabulary
            }, progress: progress.update)
        progress.finish()
        let summary = ConvertSummary(setup: setup, result: result)
        if json { print(summary.json()) }
        verbosity.say(summary.text())
    }
}
