/// The pieces of a SentencePiece model as a byte trie: from a position of the normalized text,
/// every piece that starts there is found in one walk (one hash lookup per byte).
struct PieceTrie: Sendable {
    /// (node << 8 | byte) → child node.
    private var children: [Int: Int32] = [:]
    /// The piece id ending at each node, -1 for none.
    private var ids: [Int32] = [-1]

    /// - Parameter lastWins: a repeated piece keeps its last id (bert4keras' vocabulary dict),
    ///   else its first (SentencePiece).
    init(_ pieces: [(bytes: [UInt8], id: Int)], lastWins: Bool = false) {
        // At most a node per byte: sized once, never rehashed.
        let bytes = pieces.reduce(0) { $0 + $1.bytes.count }
        children.reserveCapacity(bytes)
        ids.reserveCapacity(bytes + 1)
        for (bytes, id) in pieces where !bytes.isEmpty {
            var node = 0
            for b in bytes {
                let key = node << 8 | Int(b)
                if let next = children[key] {
                    node = Int(next)
                } else {
                    ids.append(-1)
                    children[key] = Int32(ids.count - 1)
                    node = ids.count - 1
                }
            }
            if ids[node] < 0 || lastWins { ids[node] = Int32(id) }
        }
    }

    /// Calls `found(id, end)` for every piece that is a prefix of `text[start...]`, shortest first.
    func prefixes(_ text: UnsafeBufferPointer<UInt8>, from start: Int, _ found: (Int, Int) -> Void) {
        var node = 0
        var i = start
        while i < text.count, let next = children[node << 8 | Int(text[i])] {
            node = Int(next)
            i += 1
            if ids[node] >= 0 { found(Int(ids[node]), i) }
        }
    }

    /// The longest piece that is a prefix of `text[start...]`: its id and end.
    func longest(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> (id: Int, end: Int)? {
        var best: (Int, Int)?
        prefixes(text, from: start) { best = ($0, $1) }
        return best
    }

    /// The id of exactly `bytes`, if a piece.
    func id<S: Sequence<UInt8>>(of bytes: S) -> Int? {
        var node = 0
        for b in bytes {
            guard let next = children[node << 8 | Int(b)] else { return nil }
            node = Int(next)
        }
        return ids[node] >= 0 ? Int(ids[node]) : nil
    }
}
