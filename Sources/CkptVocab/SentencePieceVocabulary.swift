/// The pieces of a SentencePiece model as its encoders look them up.
struct SentencePieceVocabulary: Sendable {
    enum Kind: Int32, Sendable {
        case normal = 1, unknown, control, userDefined, unused, byte
    }

    let pieces: [[UInt8]]
    let kinds: [Kind]
    let scores: [Float]
    /// Normal, user-defined and unused pieces (what segmentation may produce or skip).
    let trie: PieceTrie
    let unkID: Int
    /// Over normal pieces, as unigram_model.cc computes them.
    let minScore: Float
    let maxScore: Float
    /// `<0xAB>` byte pieces by byte value, for byte fallback.
    let byteIDs: [Int?]

    init(model: SentencePieceModel, spec: SentencePieceSpec) {
        let pieces = model.pieces.map { Array($0.piece.utf8) }
        let kinds = model.pieces.map { Kind(rawValue: $0.type) ?? .normal }
        let scores = model.pieces.map(\.score)
        self.pieces = pieces
        self.kinds = kinds
        self.scores = scores
        let segmentable = pieces.indices.filter { [.normal, .userDefined, .unused].contains(kinds[$0]) }
        trie = PieceTrie(segmentable.map { (pieces[$0], $0) })
        unkID = kinds.firstIndex(of: .unknown) ?? spec.unkID
        let normal = scores.indices.filter { kinds[$0] == .normal }.map { scores[$0] }
        minScore = normal.min() ?? 0
        maxScore = normal.max() ?? 0
        var bytes = [Int?](repeating: nil, count: 256)
        for i in pieces.indices where kinds[i] == .byte {
            let text = String(decoding: pieces[i], as: UTF8.self)
            if text.hasPrefix("<0x"), text.hasSuffix(">"), let v = UInt8(text.dropFirst(3).dropLast(), radix: 16) {
                bytes[Int(v)] = i
            }
        }
        byteIDs = bytes
    }
}
