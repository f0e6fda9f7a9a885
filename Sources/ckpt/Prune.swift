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

    @Argument(help: "Anything `ckpt inspect` reads.")
    var source: String

    @OptionGroup var outputOptions: OutputOptions

    @Option(help: "The checkpoint's vocab.txt, or its SentencePiece model (spiece.model), which is pruned too.")
    var vocab: String

    @Option(help: "Tokens to keep, one per line, in the order of the new vocabulary.")
    var keepTokens: String?

    @Flag(help: "Keep what bert4keras load_vocab(simplified=True) keeps.")
    var simplified = false

    @Option(
        parsing: .upToNextOption,
        help: "With --simplified: the tokens to put first (default: [PAD] [UNK] [CLS] [SEP] [MASK] where present).")
    var startswith: [String] = []

    @Option(
        parsing: .upToNextOption, help: "Text files: keep the special tokens and the tokens WordPiece produces on them."
    )
    var corpus: [String] = []

    @Option(help: "With --corpus: keep tokens produced at least this many times.")
    var minCount = 1

    @Option(help: "Lines NEW_TOKEN<TAB>tok1 tok2 ...: appended rows, each the mean of the listed tokens' rows.")
    var compoundTokens: String?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        let modes = [keepTokens != nil, simplified, !corpus.isEmpty].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --keep-tokens, --simplified, --corpus") }
        if !startswith.isEmpty && !simplified { throw ValidationError("--startswith goes with --simplified") }
        guard minCount >= 1 else { throw ValidationError("--min-count must be at least 1") }
    }

    func run() throws {
        // A SentencePiece model (T5, mT5) is pruned itself; a vocab.txt is rewritten.
        let sentencePiece = SentencePieceModel.looksLike(vocab) ? try SentencePieceModel(path: vocab) : nil
        let vocabulary = try sentencePiece?.vocabulary ?? Vocabulary(path: vocab)
        if sentencePiece != nil && (keepTokens == nil || compoundTokens != nil) {
            throw CkptError(
                .unsupported, file: vocab,
                "a SentencePiece model is pruned with --keep-tokens only (no --simplified, --corpus or compound tokens)"
            )
        }
        var chosen: VocabularyPruning.Result
        if let keepTokens {
            chosen = try VocabularyPruning.keepFile(keepTokens, vocabulary: vocabulary)
        } else if simplified {
            chosen = try VocabularyPruning.simplified(vocabulary, startswith: startswith.isEmpty ? nil : startswith)
        } else {
            chosen = try VocabularyPruning.corpus(corpus, vocabulary: vocabulary, minCount: minCount)
        }
        if let compoundTokens {
            try VocabularyPruning.addCompounds(compoundTokens, to: &chosen, vocabulary: vocabulary)
        }
        if let sentencePiece {
            // Control and unknown pieces stay, first, in their original order.
            chosen.keep = sentencePiece.prunedOrder(keep: chosen.keep)
            chosen.tokens = chosen.keep.map { vocabulary.tokens[$0] }
            chosen.warnings.removeAll()
        }
        guard !chosen.keep.isEmpty else { throw CkptError(.malformed, file: vocab, "the selection keeps no tokens") }
        for w in chosen.warnings { Output.error("ckpt: warning: \(w)") }

        var options = outputOptions.planOptions()
        options.vocabulary = VocabularySelection(keep: chosen.keep, compound: chosen.compound)
        options.vocabularySize = vocabulary.count
        let setup = try modelOptions.setup(source, options: options)
        guard setup.plan.outputs.contains(where: { $0.selection != nil }) else {
            throw CkptError(
                .unsupported, file: setup.source.path, "no tensor of this checkpoint is indexed by the vocabulary")
        }
        if outputOptions.targetLayout != .native { _ = try ModelGeometry(setup: setup, complete: false) }
        var write = try setup.standardWriteOptions(sourcePath: source)
        outputOptions.apply(to: &write)
        let newSize = Double(chosen.tokens.count)
        if var config = write.config {
            for key in ["vocab_size", "n_vocab"] where config[key] != nil { config[key] = .number(newSize) }
            if config["vocab_size"] == nil && config["n_vocab"] == nil { config["vocab_size"] = .number(newSize) }
            write.config = config
        }
        write.readFiles += [vocab] + corpus + [keepTokens, compoundTokens].compactMap { $0 } + modelOptions.readFiles
        write.extraFiles.removeAll {
            ["vocab.txt", "spiece.model", FileSystem.basename(vocab)].contains(FileSystem.basename($0))
        }
        if let sentencePiece {
            write.generatedFiles["spiece.model"] = try sentencePiece.serialized(order: chosen.keep)
        } else {
            write.generatedFiles["vocab.txt"] = Array((chosen.tokens.joined(separator: "\n") + "\n").utf8)
        }
        let keepJSON =
            "{\n  \"keep_tokens\": " + JSONText.array(chosen.keep) + ",\n  \"compound_tokens\": ["
            + chosen.compound.map(JSONText.array).joined(separator: ", ") + "]\n}\n"
        write.generatedFiles["keep_tokens.json"] = Array(keepJSON.utf8)
        let result = try Converter.run(setup.plan, source: setup.source, to: outputOptions.output, options: write)
        Output.error(
            "pruned \(vocabulary.count) -> \(chosen.tokens.count) tokens "
                + "(\(chosen.keep.count) kept, \(chosen.compound.count) compound); "
                + ConvertSummary(setup: setup, result: result).text())
    }
}
