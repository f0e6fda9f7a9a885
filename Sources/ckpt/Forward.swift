import ArgumentParser
import CkptCore
import CkptFormats
import CkptMappings
import CkptModels
import CkptVocab
import Foundation

/// `ckpt forward SRC --tokens 1,2,3`: the reference forward pass, outputs to an `.npz`.
struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the float32 reference forward pass of a checkpoint and write its outputs as .npz.")

    @Argument(help: "Anything `ckpt inspect` reads.", completion: .file())
    var source: String

    @Option(help: "Token ids, comma-separated.")
    var tokens: IntList?

    @Option(help: "Text to tokenize with bert4keras' WordPiece rules ([CLS] ... [SEP]) instead of --tokens.")
    var text: String?

    @Option(help: "With --text: a second text ([CLS] text [SEP] pair [SEP], segment ids 0 then 1).")
    var textPair: String?

    @Option(help: "vocab.txt for --text (default: vocab.txt beside the source).", completion: .file())
    var vocab: String?

    @Option(help: "Segment ids, comma-separated (default: all 0).")
    var segments: IntList?

    @Option(help: "Decoder token ids for T5, comma-separated.")
    var decoderTokens: IntList?

    @Option(
        help: ArgumentHelp(
            "T5's decoder as bert4keras computes it (cross-attention position bias, output always scaled) "
                + "or as transformers does (default: transformers for a Hugging Face source, else bert4keras)."))
    var t5Convention: T5Convention?

    @Option(help: "encoder, lm (causal mask) or unilm (mask from segment ids); lm and unilm bring the mlm head.")
    var application: ApplicationChoice = .encoder

    @Option(help: "Comma-separated heads: pool, nsp, mlm, discriminator.")
    var heads: HeadList?

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Print the inputs and each output's name, shape and first values as JSON on stdout.")
    var json = false

    @OptionGroup var verbosity: Verbosity

    @Option(help: "Write the outputs to this .npz (zlib); without it, a summary is printed.", completion: .file())
    var output: String?

    @Flag(help: "Replace an existing --output file, when it is an .npz that ckpt wrote.")
    var force = false

    struct IntList: ExpressibleByArgument {
        let values: [Int]
        init?(argument: String) {
            let parts = argument.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, !parts.contains(nil) else { return nil }
            values = parts.map { $0! }
        }
    }

    struct HeadList: ExpressibleByArgument {
        let heads: Set<Head>
        init(heads: Set<Head>) { self.heads = heads }
        init?(argument: String) {
            let parts = argument.split(separator: ",").map { Head(rawValue: String($0)) }
            guard !parts.contains(nil) else { return nil }
            heads = Set(parts.map { $0! })
        }
    }

    enum ApplicationChoice: String, ExpressibleByArgument, CaseIterable { case encoder, lm, unilm }

    func validate() throws {
        guard (tokens == nil) != (text == nil) else { throw ValidationError("give either --tokens or --text") }
        if textPair != nil && text == nil { throw ValidationError("--text-pair goes with --text") }
        if text != nil && segments != nil {
            throw ValidationError("--text gives the segment ids; --segments goes with --tokens")
        }
    }

    func run() throws {
        var ids = tokens?.values ?? []
        var segmentIds = segments?.values
        var vocabPath: String?
        if let text {
            // The tokenizer the checkpoint carries (vocab.txt and tokenizer_config.json beside it).
            let encoder = try TextEncoder(path: vocab ?? source, lowercase: nil)
            vocabPath = encoder.path
            let encoded = try encoder.encode(text, pair: textPair)
            ids = encoded.ids
            segmentIds = encoded.segments
        }
        let request = ForwardRequest(
            tokens: ids, segments: segmentIds, decoderTokens: decoderTokens?.values,
            application: Application(rawValue: application.rawValue)!, heads: heads?.heads ?? [],
            t5Convention: t5Convention)
        let outputs = try ForwardJob.run(
            try modelOptions.setup(source), request: request, output: output, force: force,
            readFiles: modelOptions.readFiles + [vocabPath].compactMap { $0 },
            readFolders: FileSystem.isDirectory(source) ? [source] : [])
        if json {
            print(
                JSONDocument.text([
                    "schema_version": 1, "tokens": request.tokens, "segments": (request.segments as Any?) ?? NSNull(),
                    "decoder_tokens": (request.decoderTokens as Any?) ?? NSNull(),
                    "output": (output as Any?) ?? NSNull(),
                    "outputs": outputs.arrays.map {
                        ["name": $0.name, "shape": $0.shape, "first": $0.values.prefix(4).map(Double.init)]
                            as [String: Any]
                    },
                ]), terminator: "")
        }
        if let output {
            verbosity.say("wrote \(outputs.arrays.map(\.name).joined(separator: ", ")) to \(output)")
        } else if !json {
            for a in outputs.arrays {
                let head = a.values.prefix(4).map { String(format: "%.6g", $0) }.joined(separator: ", ")
                print("\(a.name) \(ShapeMath.describe(a.shape)): [\(head)\(a.values.count > 4 ? ", ..." : "")]")
            }
        }
    }
}

extension T5Convention: ExpressibleByArgument {}
