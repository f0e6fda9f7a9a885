/// The settings of a SentencePiece model that encoding depends on (TrainerSpec and
/// NormalizerSpec of `sentencepiece_model.proto`), defaults as SentencePiece has them.
public struct SentencePieceSpec: Sendable, Equatable {
    /// 1 unigram, 2 BPE, 3 word, 4 char.
    public var modelType = 1
    public var byteFallback = false
    public var whitespaceAsSuffix = false
    public var unkID = 0
    public var bosID = 1
    public var eosID = 2
    public var padID = -1
    public var normalizerName = ""
    /// The normalization rules compiled into a double-array trie and the strings they map to
    /// (`nmt_nfkc` and the like); empty for `identity`.
    public var charsmap: [UInt8] = []
    public var addDummyPrefix = true
    public var removeExtraWhitespaces = true
    public var escapeWhitespaces = true

    public init() {}
}
