/// The vocabulary as two byte tries — whole-word-start tokens and `##` continuations — so that
/// greedy longest-match WordPiece finds each piece in one walk over the word's bytes instead of
/// trying every shorter substring as a string (bert4keras' loop; the result is the same: the
/// longest vocabulary token that is a prefix of the rest of the word).
struct WordPieceLookup: Sendable {
    let starts: PieceTrie
    let continuations: PieceTrie

    init(_ vocabulary: Vocabulary) {
        var starts: [([UInt8], Int)] = []
        var continuations: [([UInt8], Int)] = []
        for (id, token) in vocabulary.tokens.enumerated() {
            let bytes = Array(token.utf8)
            if bytes.count > 2 && bytes[0] == 0x23 && bytes[1] == 0x23 {
                continuations.append((Array(bytes[2...]), id))
            }
            starts.append((bytes, id))
        }
        self.starts = PieceTrie(starts.map { (bytes: $0.0, id: $0.1) }, lastWins: true)
        self.continuations = PieceTrie(continuations.map { (bytes: $0.0, id: $0.1) }, lastWins: true)
    }

    /// The piece ids of one word (UTF-8 bytes), or nil when no piece sequence covers it.
    func pieces(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int]) -> Bool {
        let mark = ids.count
        var start = 0
        while start < word.count {
            let trie = start == 0 ? starts : continuations
            guard let (id, end) = trie.longest(word, from: start) else {
                ids.removeSubrange(mark...)
                return false
            }
            ids.append(id)
            start = end
        }
        return true
    }
}
