import ArgumentParser
import CkptCore
import CkptVocab
import Foundation

/// `ckpt tokenize PATH --text T... | --file F`: the ids a model is fed, one line per input.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize text as the model's own tokenizer does: one line of ids per input text.",
        discussion: "WordPiece ([CLS] ... [SEP]) as bert4keras and transformers' BertTokenizer do it.")

    @Argument(help: "A vocab.txt, or a checkpoint file or folder with its vocab.txt beside it.", completion: .file())
    var path: String

    @Option(name: .customLong("text"), help: "A text to tokenize; may be repeated (one output line each).")
    var texts: [String] = []

    @Option(
        help: "A text file: one output line per line of it (an empty line gives the bare specials).",
        completion: .file())
    var file: String?

    @Option(help: "A second text, for a single --text: [CLS] text [SEP] pair [SEP], segment ids 0 then 1.")
    var pair: String?

    @Flag(help: "One JSON object per line: {tokens, ids, segments}.")
    var json = false

    @Flag(
        help:
            "Lower-case and strip accents (default: tokenizer_config.json's do_lower_case, else the vocabulary's case)."
    )
    var lowercase = false

    @Flag(help: "Keep case and accents.")
    var cased = false

    func validate() throws {
        guard !texts.isEmpty || file != nil else { throw ValidationError("give --text or --file") }
        if pair != nil && (texts.count != 1 || file != nil) {
            throw ValidationError("--pair goes with a single --text")
        }
        if lowercase && cased { throw ValidationError("--lowercase and --cased exclude each other") }
    }

    /// Accepted for scripts that pass it to every command: this one writes only its result
    /// (stdout) and errors.
    @OptionGroup var verbosity: Verbosity

    func run() throws {
        let encoder = try TextEncoder(path: path, lowercase: lowercase ? true : cased ? false : nil)
        let out = FileHandle.standardOutput
        func emit(_ lines: [String]) { out.write(Data(lines.map { $0 + "\n" }.joined().utf8)) }
        if !texts.isEmpty { emit(try texts.map { try line(encoder.encode($0, pair: pair)) }) }
        if let file {
            try TextLines.forEachBatch(file) { batch in emit(try encodeInParallel(batch, encoder)) }
        }
    }

    func line(_ e: TextEncoder.Encoded) -> String {
        guard json else { return e.ids.map(String.init).joined(separator: ",") }
        return JSONDocument.line(["schema_version": 1, "tokens": e.tokens, "ids": e.ids, "segments": e.segments])
    }

    /// A batch of lines on every core, in order: chunks of lines per task, each writing its
    /// own output bytes (one lock-free slot per chunk, not per line).
    func encodeInParallel(_ batch: [String], _ encoder: TextEncoder) throws -> [String] {
        let chunk = 128
        let chunks = (batch.count + chunk - 1) / chunk
        let results = ConcurrentSlots<Result<String, any Error>>(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            results.set(
                c,
                Result {
                    var out = ""
                    for i in c * chunk..<min(batch.count, (c + 1) * chunk) {
                        out += line(try encoder.encode(batch[i], withTokens: json))
                        out += "\n"
                    }
                    return out
                })
        }
        // Each element already ends with its newline: `emit` adds one, so drop the last.
        return try results.all.map { String(try $0.get().dropLast()) }
    }
}
