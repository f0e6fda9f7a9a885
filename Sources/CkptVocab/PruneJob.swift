import CkptCore
import CkptMappings

/// `prune`: choose the vocabulary rows to keep (bert4keras `keep_tokens`, `load_vocab(simplified)`,
/// or a corpus), then write the checkpoint with only those rows of every vocabulary-indexed
/// tensor, the new vocabulary (vocab.txt, or the pruned SentencePiece model), the config with the
/// new size and `keep_tokens.json`.
public struct PruneJob {
    public enum Selection: Sendable {
        case keepTokens(path: String)
        /// bert4keras `load_vocab(simplified=True, startswith=...)`.
        case simplified(startswith: [String]?)
        case corpus(files: [String], minCount: Int)
    }

    /// vocab.txt or a SentencePiece model (which is pruned itself).
    public let vocab: String
    public let selection: Selection
    /// Lines `NEW_TOKEN<TAB>tok1 tok2 ...`: appended rows, the mean of the listed rows.
    public let compoundTokens: String?

    public init(vocab: String, selection: Selection, compoundTokens: String?) {
        self.vocab = vocab
        self.selection = selection
        self.compoundTokens = compoundTokens
    }

    /// What a run chose and wrote.
    public struct Outcome {
        public let vocabularySize: Int
        public let chosen: VocabularyPruning.Result
        public let setup: ConversionSetup
        public let result: ConversionResult
    }

    /// Every file the job reads besides the checkpoint (an output must not touch them).
    public var readFiles: [String] {
        var files = [vocab] + [compoundTokens].compactMap { $0 }
        switch selection {
        case .keepTokens(let path): files.append(path)
        case .simplified: break
        case .corpus(let paths, _): files += paths
        }
        return files
    }

    /// Chooses the rows, plans the conversion through `setup` (given the plan options with the
    /// selection), checks the model's shapes for layouts a model is built from, and writes.
    public func run(
        options: PlanOptions, setup makeSetup: (PlanOptions) throws -> ConversionSetup, sourcePath: String,
        to output: String,
        adjust: (inout WriteOptions) -> Void, warn: (String) -> Void
    ) throws -> Outcome {
        let sentencePiece = SentencePieceModel.looksLike(vocab) ? try SentencePieceModel(path: vocab) : nil
        let vocabulary = try sentencePiece?.vocabulary ?? Vocabulary(path: vocab)
        let chosen = try choose(vocabulary, sentencePiece: sentencePiece)
        for w in chosen.warnings { warn(w) }
        var options = options
        options.vocabulary = VocabularySelection(keep: chosen.keep, compound: chosen.compound)
        options.vocabularySize = vocabulary.count
        let setup = try makeSetup(options)
        guard setup.plan.outputs.contains(where: { $0.selection != nil }) else {
            throw CkptError(
                .unsupported, file: setup.source.path, "no tensor of this checkpoint is indexed by the vocabulary")
        }
        var write = try setup.standardWriteOptions(sourcePath: sourcePath)
        adjust(&write)
        write.readFiles += readFiles
        write.config = write.config.map { Self.resized($0, to: chosen.tokens.count) }
        write.extraFiles.removeAll {
            ["vocab.txt", "spiece.model", FileSystem.basename(vocab)].contains(FileSystem.basename($0))
        }
        if let sentencePiece {
            write.generatedFiles["spiece.model"] = try sentencePiece.serialized(order: chosen.keep)
        } else {
            write.generatedFiles["vocab.txt"] = Array((chosen.tokens.joined(separator: "\n") + "\n").utf8)
        }
        write.generatedFiles["keep_tokens.json"] = JSONDocument.bytes([
            "keep_tokens": chosen.keep, "compound_tokens": chosen.compound,
        ])
        let result = try Converter.run(setup.plan, source: setup.source, to: output, options: write)
        return Outcome(vocabularySize: vocabulary.count, chosen: chosen, setup: setup, result: result)
    }

    /// The rows to keep, in the new order.
    func choose(_ vocabulary: Vocabulary, sentencePiece: SentencePieceModel?) throws -> VocabularyPruning.Result {
        if sentencePiece != nil {
            if case .simplified = selection {
                throw CkptError(
                    .unsupported, file: vocab, "a SentencePiece model is pruned with --keep-tokens or --corpus")
            }
            guard compoundTokens == nil else {
                throw CkptError(.unsupported, file: vocab, "a SentencePiece model takes no compound tokens")
            }
        }
        var chosen: VocabularyPruning.Result
        switch selection {
        case .keepTokens(let path): chosen = try VocabularyPruning.keepFile(path, vocabulary: vocabulary)
        case .simplified(let startswith): chosen = try VocabularyPruning.simplified(vocabulary, startswith: startswith)
        case .corpus(let files, let minCount) where sentencePiece != nil:
            chosen = try VocabularyPruning.corpus(files, sentencePiece: vocab, minCount: minCount)
        case .corpus(let files, let minCount):
            chosen = try VocabularyPruning.corpus(files, vocabulary: vocabulary, minCount: minCount)
        }
        if let sentencePiece {
            // Control and unknown pieces stay, first, in their original order.
            chosen.keep = sentencePiece.prunedOrder(keep: chosen.keep)
            chosen.tokens = chosen.keep.map { vocabulary.tokens[$0] }
            chosen.warnings.removeAll()
        }
        if let compoundTokens {
            try VocabularyPruning.addCompounds(compoundTokens, to: &chosen, vocabulary: vocabulary)
        }
        guard !chosen.keep.isEmpty else { throw CkptError(.malformed, file: vocab, "the selection keeps no tokens") }
        return chosen
    }

    /// The config with the new vocabulary size under the keys it uses (`vocab_size` when none).
    static func resized(_ config: [String: JSONValue], to size: Int) -> [String: JSONValue] {
        var config = config
        for key in ["vocab_size", "n_vocab"] where config[key] != nil { config[key] = .number(Double(size)) }
        if config["vocab_size"] == nil && config["n_vocab"] == nil { config["vocab_size"] = .number(Double(size)) }
        return config
    }
}
