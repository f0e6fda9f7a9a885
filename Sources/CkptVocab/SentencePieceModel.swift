import CkptCore

/// A SentencePiece model file (`spiece.model`, google/sentencepiece `sentencepiece_model.proto`):
/// its pieces are the vocabulary (id = position), and `prune` rewrites it with a subset.
public struct SentencePieceModel: Sendable {
    public struct Piece: Sendable, Equatable {
        public let piece: String
        public let score: Float
        /// NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6.
        public let type: Int32

        public init(piece: String, score: Float, type: Int32) {
            self.piece = piece
            self.score = score
            self.type = type
        }

        /// Control (`<pad>`, `</s>`) and unknown pieces, which a pruned model must keep.
        public var isReserved: Bool { type == 2 || type == 3 }
    }

    public let path: String
    public let pieces: [Piece]
    /// The trainer and normalizer settings encoding needs.
    public let spec: SentencePieceSpec
    private let bytes: [UInt8]

    public init(path: String) throws {
        self.path = path
        bytes = try MappedFile.contents(of: path)
        (pieces, spec) = try SentencePieceProto.read(bytes, file: path)
        guard !pieces.isEmpty else { throw CkptError(.malformed, file: path, "SentencePiece model has no pieces") }
    }

    /// Whether a file looks like a SentencePiece model rather than a vocab.txt (name or content).
    public static func looksLike(_ path: String) -> Bool {
        path.hasSuffix(".model") || (try? MappedFile(path: path).prefix(1)) == [0x0a]
    }

    /// The vocabulary view of the pieces.
    public var vocabulary: Vocabulary { Vocabulary(tokens: pieces.map(\.piece), path: path) }

    /// The order of a pruned model: the reserved pieces first, in their original order, then the
    /// kept ones in the order given (reserved ones not repeated).
    public func prunedOrder(keep: [Int]) -> [Int] {
        let reserved = pieces.indices.filter { pieces[$0].isReserved }
        let taken = Set(reserved)
        return reserved + keep.filter { !taken.contains($0) }
    }

    /// The serialized model with only the pieces at `order`.
    public func serialized(order: [Int]) throws -> [UInt8] {
        try SentencePieceProto.reordered(bytes, order: order, file: path)
    }
}
