import CkptCore
import CkptFormats
import CkptVocab
import Foundation

/// The readers ckpt exposes to untrusted files, one fuzz target each. An input is written to a
/// file in a scratch folder (the readers map files) beside copies of the fixture files it needs
/// (a TF index fuzzed against a real data shard and the reverse, a sharded index against real
/// shards), opened, and every tensor read. Errors are the expected outcome; a crash, a trap, a
/// hang or an allocation past libFuzzer's limit is a finding.
enum FuzzTarget: String, CaseIterable {
    case tfIndex = "tf_index"
    case tfIndexSharded = "tf_index_sharded"
    case tfData = "tf_data"
    case safetensors
    case shardedIndex = "sharded_index"
    case npz
    case vocab
    case spm
    case hdf5
    /// torch.save's zip format (the pickle is CRC-checked, so mutations mostly probe the zip).
    case pytorch
    /// torch.save's stream format: the restricted unpickler sees every mutation.
    case pytorchLegacy = "pytorch_legacy"
    /// llama.cpp's GGUF: header, metadata (nested arrays), tensor table, Q8_0 dequantizing.
    case gguf
    /// A safetensors model and its config, loaded and run (ForwardFuzzInput).
    case forward

    /// The file the input becomes, and fixture files copied beside it (relative to Fixtures/).
    var layout: (input: String, companions: [String]) {
        switch self {
        case .tfIndex: return ("model.ckpt.index", ["families/bert/model.ckpt.data-00000-of-00001"])
        case .tfIndexSharded:
            return ("model.ckpt.index", (0..<3).map { "special/sharded/model.ckpt.data-0000\($0)-of-00003" })
        case .tfData: return ("model.ckpt.data-00000-of-00001", ["families/bert/model.ckpt.index"])
        case .safetensors: return ("model.safetensors", [])
        case .shardedIndex:
            return (
                "model.safetensors.index.json",
                [
                    "special/safetensors/sharded/model-00001-of-00002.safetensors",
                    "special/safetensors/sharded/model-00002-of-00002.safetensors",
                ]
            )
        case .npz: return ("model.npz", [])
        case .vocab: return ("vocab.txt", [])
        case .spm: return ("spiece.model", [])
        case .hdf5: return ("model.weights.h5", [])
        case .pytorch, .pytorchLegacy: return ("pytorch_model.bin", [])
        case .gguf: return ("model.gguf", [])
        case .forward: return ("input.fuzz", [])
        }
    }

    /// Fixture files that seed the corpus.
    var seeds: [String] {
        switch self {
        case .tfIndex:
            return [
                "families/bert/model.ckpt.index", "families/t5.1.1/model.ckpt.index", "special/dtypes/model.ckpt.index",
            ]
        case .tfIndexSharded: return ["special/sharded/model.ckpt.index"]
        case .tfData: return ["families/bert/model.ckpt.data-00000-of-00001"]
        case .safetensors: return ["special/safetensors/model.safetensors", "families/bert/golden.hf.safetensors"]
        case .shardedIndex: return ["special/safetensors/sharded/model.safetensors.index.json"]
        case .npz: return ["special/npz/model.npz", "special/npz/uncompressed.npz"]
        case .vocab: return ["vocab/vocab.txt", "prune/bert/vocab.txt"]
        case .spm:
            return [
                "spm/spiece.model", "tokenizers/unigram.model", "tokenizers/bpe.model",
                "tokenizers/unigram_nodummy.model",
            ]
        case .hdf5:
            return [
                "families/bert/model.weights.h5", "families/t5.1.1/model.weights.h5", "special/keras_full/model.h5",
            ]
        case .pytorch: return ["torch/edge.bin", "hub/bert_mlm/pytorch_model.bin"]
        case .pytorchLegacy: return ["torch/edge_legacy.bin", "hub/bert_legacy/pytorch_model.bin"]
        case .gguf:
            return ["gguf/bert/reference.q8_0.gguf", "gguf/t5/reference.f16.gguf", "gguf/gpt2/reference.bf16.gguf"]
        case .forward: return []  // generated from every family's fixture (ForwardFuzzInput.seeds)
        }
    }

    func exercise(_ path: String) {
        switch self {
        case .tfIndex, .tfIndexSharded, .tfData, .safetensors, .shardedIndex, .npz, .hdf5, .pytorch, .pytorchLegacy,
            .gguf:
            guard let source = try? CheckpointOpener.open(path) else { return }
            for t in source.tensors {
                if t.dtype == .string {
                    _ = try? source.strings(of: t)
                } else {
                    _ = try? source.withBytes(of: t) { Checksum.crc32($0) }
                }
            }
        case .vocab:
            guard let v = try? Vocabulary(path: path) else { return }
            let tokenizer = WordPieceTokenizer(vocabulary: v)
            for text in ["Hello, world!", "语言模型 unaffable", "[CLS] x", ""] { _ = try? tokenizer.encode(text) }
            _ = try? VocabularyPruning.simplified(v, startswith: nil)
        case .spm:
            guard let m = try? SentencePieceModel(path: path) else { return }
            _ = try? m.serialized(order: m.prunedOrder(keep: Array(0..<min(m.pieces.count, 8))))
            // The normalizer's precompiled charsmap (a double-array trie) and both segmentations.
            guard let t = try? SentencePieceTokenizer(path: path) else { return }
            for text in ["Hello, world!", "  ＡＢＣ ﬁ ½ 语言模型  ", "\u{0}\u{FFFD}é\u{301}", ""] { _ = t.encode(text) }
        case .forward:
            let folder = FileSystem.dirname(path)
            guard let bytes = try? MappedFile.contents(of: path),
                let family = ForwardFuzzInput.unpack(bytes, into: folder)
            else { return }
            let outcome = ForwardFuzzInput.exercise(folder: folder, family: family)
            if ProcessInfo.processInfo.environment["CKPT_FUZZ_VERBOSE"] != nil { print(outcome) }
        }
    }
}

/// A scratch folder holding one target's companion files; inputs are written into it.
final class FuzzWorkspace {
    let target: FuzzTarget
    let folder: String
    let inputPath: String

    init(target: FuzzTarget, fixtures: String) throws {
        self.target = target
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        folder = "\(base)/ckpt-fuzz-\(target.rawValue)-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for c in target.layout.companions {
            try FileManager.default.copyItem(
                atPath: "\(fixtures)/\(c)", toPath: "\(folder)/\((c as NSString).lastPathComponent)")
        }
        inputPath = "\(folder)/\(target.layout.input)"
    }

    func run(_ bytes: UnsafeRawBufferPointer) {
        let fd = open(inputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { fatalError("cannot write \(inputPath)") }
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            guard n > 0 else { fatalError("cannot write \(inputPath)") }
            done += n
        }
        close(fd)
        target.exercise(inputPath)
    }

    /// Fixtures/: $CKPT_FIXTURES, or found above the current folder.
    static func fixtures() -> String {
        if let f = ProcessInfo.processInfo.environment["CKPT_FIXTURES"] { return f }
        var dir = FileManager.default.currentDirectoryPath
        while dir != "/" {
            if FileManager.default.fileExists(atPath: dir + "/Fixtures/families") { return dir + "/Fixtures" }
            dir = (dir as NSString).deletingLastPathComponent
        }
        fatalError("Fixtures/ not found; set CKPT_FIXTURES")
    }
}
