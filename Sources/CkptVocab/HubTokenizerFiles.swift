import CkptCore
import CkptMappings
import Foundation

/// What `AutoTokenizer.from_pretrained` needs beside a WordPiece `vocab.txt` when the source has
/// no transformers tokenizer files of its own (a TF or Keras release): `tokenizer_config.json`
/// (class, lower-casing as the vocabulary needs it, the longest input the positions allow) and
/// `special_tokens_map.json`; beside a SentencePiece `spiece.model` (T5), the same for
/// `T5Tokenizer`.
public enum HubTokenizerFiles {
    /// The files to write into an `hf` output, empty when the source folder has its own
    /// tokenizer files (they are copied) or neither a `vocab.txt` nor a `spiece.model`.
    /// - Parameter vocabularyRows: the token embedding's rows (T5's sentinel count comes from it).
    public static func files(
        besides sourcePath: String, opened: String, maxPositions: Int?, vocabularyRows: Int? = nil
    ) throws -> [String: [UInt8]] {
        let folder = FileSystem.isDirectory(sourcePath) ? sourcePath : FileSystem.dirname(opened)
        guard !FileSystem.exists(FileSystem.join(folder, "tokenizer_config.json")) else { return [:] }
        let vocab = FileSystem.join(folder, "vocab.txt")
        let spiece = FileSystem.join(folder, "spiece.model")
        if !FileSystem.isRegularFile(vocab) && FileSystem.isRegularFile(spiece) {
            return try t5Files(spiece, vocabularyRows: vocabularyRows)
        }
        guard FileSystem.isRegularFile(vocab) else { return [:] }
        let lowercase = WordPieceTokenizer(vocabulary: try Vocabulary(path: vocab)).lowercase
        let special: [String: Any] = [
            "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
            "mask_token": "[MASK]",
        ]
        var config = special
        config["tokenizer_class"] = "BertTokenizer"
        config["do_lower_case"] = lowercase
        config["model_max_length"] = maxPositions ?? 512
        return [
            "tokenizer_config.json": JSONDocument.bytes(config), "special_tokens_map.json": JSONDocument.bytes(special),
        ]
    }

    /// `T5Tokenizer` over the model's pieces: its control pieces as the special tokens, and the
    /// 100 `<extra_id_N>` sentinels T5 checkpoints reserve rows for when the embedding has them.
    static func t5Files(_ spiece: String, vocabularyRows: Int?) throws -> [String: [UInt8]] {
        let model = try SentencePieceModel(path: spiece)
        let spec = model.spec
        func piece(_ id: Int) -> String? { id >= 0 && id < model.pieces.count ? model.pieces[id].piece : nil }
        var special: [String: Any] = [:]
        special["eos_token"] = piece(spec.eosID)
        special["unk_token"] = piece(spec.unkID)
        special["pad_token"] = piece(spec.padID)
        let extra = (vocabularyRows ?? 0) >= model.pieces.count + 100 ? 100 : 0
        if extra > 0 { special["additional_special_tokens"] = (0..<extra).map { "<extra_id_\($0)>" } }
        var config = special
        config["tokenizer_class"] = "T5Tokenizer"
        config["extra_ids"] = extra
        config["model_max_length"] = 512
        return [
            "tokenizer_config.json": JSONDocument.bytes(config), "special_tokens_map.json": JSONDocument.bytes(special),
        ]
    }
}
