import CkptCore
import CkptMappings
import Foundation

/// What `AutoTokenizer.from_pretrained` needs beside a WordPiece `vocab.txt` when the source has
/// no transformers tokenizer files of its own (a TF or Keras release): `tokenizer_config.json`
/// (class, lower-casing as the vocabulary needs it, the longest input the positions allow) and
/// `special_tokens_map.json`.
public enum HubTokenizerFiles {
    /// The files to write into an `hf` output, empty when the source folder has its own
    /// tokenizer files (they are copied) or no `vocab.txt`.
    public static func files(besides sourcePath: String, opened: String, maxPositions: Int?) throws -> [String: [UInt8]]
    {
        let folder = FileSystem.isDirectory(sourcePath) ? sourcePath : FileSystem.dirname(opened)
        let vocab = FileSystem.join(folder, "vocab.txt")
        guard FileSystem.isRegularFile(vocab), !FileSystem.exists(FileSystem.join(folder, "tokenizer_config.json"))
        else { return [:] }
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
}
