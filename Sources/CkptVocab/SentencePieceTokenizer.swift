import CkptCore

/// Encodes text as the `sentencepiece` library does (`encode(text, out_type=int)`): the model's
/// normalizer, then its unigram or BPE segmentation; an unknown piece becomes its UTF-8 bytes'
/// `<0xAB>` pieces when the model was trained with byte fallback, else the unknown id.
public struct SentencePieceTokenizer: Sendable {
    public let model: SentencePieceModel
    public let spec: SentencePieceSpec
    public let normalizer: SentencePieceNormalizer
    let vocabulary: SentencePieceVocabulary

    public init(path: String) throws {
        model = try SentencePieceModel(path: path)
        spec = model.spec
        guard spec.modelType == 1 || spec.modelType == 2 else {
            throw CkptError(
                .unsupported, file: path,
                "SentencePiece model type \(spec.modelType) (ckpt encodes unigram (1) and BPE (2) models)")
        }
        normalizer = try SentencePieceNormalizer(spec: spec, file: path)
        vocabulary = SentencePieceVocabulary(model: model, spec: spec)
    }

    /// The piece ids of `text`, without BOS or EOS.
    public func encode(_ text: String) -> [Int] {
        let normalized = normalizer.normalize(text)
        return normalized.withUnsafeBufferPointer { buffer in
            let pieces =
                spec.modelType == 2
                ? BPEEncoder(model: vocabulary).encode(buffer) : UnigramEncoder(model: vocabulary).encode(buffer)
            var ids: [Int] = []
            ids.reserveCapacity(pieces.count)
            var previousUnknown = false
            for p in pieces {
                let unknown = p.id == vocabulary.unkID
                if unknown && spec.byteFallback {
                    for b in buffer[p.start..<p.end] { ids.append(vocabulary.byteIDs[Int(b)] ?? vocabulary.unkID) }
                    continue
                }
                // A run of unknown pieces is one (sentencepiece_processor.cc PopulateSentencePieceText).
                if !(unknown && previousUnknown) { ids.append(p.id) }
                previousUnknown = unknown
            }
            return ids
        }
    }

    /// The pieces of `ids`, as `sentencepiece` names them.
    public func pieces(_ ids: [Int]) -> [String] {
        ids.map { $0 >= 0 && $0 < model.pieces.count ? model.pieces[$0].piece : "" }
    }

    /// The end-of-sequence id T5 and bert4keras' `SpTokenizer` append (`</s>`), if the model has one.
    public var eosID: Int? {
        spec.eosID >= 0 && spec.eosID < model.pieces.count ? spec.eosID : nil
    }
}
