import ArgumentParser
import CkptCore
import CkptMappings
import CkptModels
import CkptVocab
import Foundation

/// `ckpt prune SRC --to OUT --vocab vocab.txt (--keep-tokens F | --simplified | --corpus F...)`:
/// keeps only the chosen vocabulary rows of every vocabulary-indexed tensor (bert4keras
/// keep_tokens / compound_tokens), and writes the new vocab.txt, config and keep_tokens.json.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Slim the vocabulary of a checkpoint: prune every vocabulary-indexed tensor and write the new vocab.txt.")

    @Argument(help: "Anything `ckpt inspect` reads.", completion: .file())
    var source: String

    @OptionGroup var outputOptions: OutputOptions

    @Option(
        help: "The checkpoint's vocab.txt, or its SentencePiece model (spiece.model), which is pruned too.",
        completion: .file())
    var vocab: String

    @Option(help: "Tokens to keep, one per line, in the order of the new vocabulary.", completion: .file())
    var keepTokens: String?

    @Flag(help: "Keep what bert4keras load_vocab(simplified=True) keeps.")
    var simplified = false

    @Option(
        parsing: .upToNextOption,
        help: "With --simplified: the tokens to put first (default: [PAD] [UNK] [CLS] [SEP] [MASK] where present).")
    var startswith: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: "Text files: keep the special tokens and the tokens WordPiece produces on them.", completion: .file())
    var corpus: [String] = []

    @Option(help: "With --corpus: keep tokens produced at least this many times.")
    var minCount = 1

    @Option(
        help: "Lines NEW_TOKEN<TAB>tok1 tok2 ...: appended rows, each the mean of the listed tokens' rows.",
        completion: .file())
    var compoundTokens: String?

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Print the summary as JSON on stdout (convert's fields, and vocabulary_size, kept, compound).")
    var json = false

    @OptionGroup var verbosity: Verbosity

    func validate() throws {
        let modes = [keepTokens != nil, simplified, !corpus.isEmpty].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --keep-tokens, --simplified, --corpus") }
        if !startswith.isEmpty && !simplified { throw ValidationError("--startswith goes with --simplified") }
        guard minCount >= 1 else { throw ValidationError("--min-count must be at least 1") }
    }

    func run() throws {
        let selection: PruneJob.Selection
        if let keepTokens {
            selection = .keepTokens(path: keepTokens)
        } else if simplified {
            selection = .simplified(startswith: startswith.isEmpty ? nil : startswith)
        } else {
            selection = .corpus(files: corpus, minCount: minCount)
        }
        let job = PruneJob(vocab: vocab, selection: selection, compoundTokens: compoundTokens)
        let outcome = try job.run(
            options: outputOptions.planOptions(),
            setup: { options in
                let setup = try modelOptions.setup(source, options: options)
                try ConvertJob.checkShapes(setup)
                return setup
            },
            sourcePath: source, to: outputOptions.output,
            adjust: { write in
                outputOptions.apply(to: &write)
                write.readFiles += modelOptions.readFiles
            },
            warn: { verbosity.say("ckpt: warning: \($0)") })
        let c = outcome.chosen
        let summary = ConvertSummary(setup: outcome.setup, result: outcome.result)
        if json {
            print(
                summary.json(extra: [
                    "vocabulary_size": outcome.vocabularySize, "kept": c.keep.count, "compound": c.compound.count,
                ]))
        }
        verbosity.say(
            "pruned \(outcome.vocabularySize) -> \(c.tokens.count) tokens "
                + "(\(c.keep.count) kept, \(c.compound.count) compound); "
                + ConvertSummary(setup: outcome.setup, result: outcome.result).text())
    }
}
