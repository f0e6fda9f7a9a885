import CkptCore

/// `tokenizer.ggml.pre` of a WordPiece vocabulary, named as llama.cpp's converter names it: by
/// the SHA-256 of the ids its Hugging Face tokenizer gives a fixed text (`get_vocab_base_pre`).
/// Only two hashes of WordPiece vocabularies are known to it: bert-base-uncased's (named for
/// jina-embeddings-v2, the converter's last match) and bert-base-chinese's (bge-large-zh); any
/// other is "default" (the converter refuses those; llama.cpp reads the name for BPE only).
enum GGUFPreTokenizer {
    /// The converter's check text (`chktxt`).
    static let checkText =
        "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n\u{1F680} (normal) \u{1F636}\u{200D}\u{1F32B}"
        + "\u{FE0F} (multiple emojis concatenated) \u{2705} \u{1F999}\u{1F999} 3 33 333 3333 33333 333333 3"
        + "333333 33333333 3.3 3..3 3...3 \u{1780}\u{17B6}\u{1793}\u{17CB}\u{178F}\u{17C2}\u{1796}\u{17B7}"
        + "\u{179F}\u{17C1}\u{179F}\u{17A2}\u{17B6}\u{1785}\u{1F601} ?\u{6211}\u{60F3}\u{5728}apple\u{5DE5}"
        + "\u{4F5C}1314151\u{5929}\u{FF5E} ------======= \u{43D}\u{435}\u{449}\u{43E} \u{43D}\u{430} "
        + "\u{411}\u{44A}\u{43B}\u{433}\u{430}\u{440}\u{441}\u{43A}\u{438} ''''''```````\"\"\"\"......!!!!!"
        + "!?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea"
        + "? We'Ve a'lL"

    static let knownWordPiece = [
        "0876d13b50744004aa9aeae05e7b0647eac9d801b5ba4668afc01e709c15e19f": "jina-v2-en",
        "8e62295832751ca1e8f92f2226f403dea30dc5165e448b5bfa05af5340c64ec7": "bert-bge-large",
    ]

    /// The name for a WordPiece tokenizer, from the ids it gives `checkText` with [CLS]/[SEP].
    static func wordPiece(_ tokenizer: WordPieceTokenizer) -> String {
        guard let ids = try? tokenizer.encode(checkText, pair: nil, withTokens: false).ids else { return "default" }
        return knownWordPiece[SHA256.hex(Array(pythonList(ids).utf8))] ?? "default"
    }

    /// Python's `str(list_of_ints)`.
    static func pythonList(_ ids: [Int]) -> String { "[" + ids.map(String.init).joined(separator: ", ") + "]" }
}
