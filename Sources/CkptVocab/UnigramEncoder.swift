/// SentencePiece's unigram segmentation (unigram_model.cc `EncodeOptimized`): the Viterbi path
/// over the normalized text that maximises the sum of piece scores. A character no piece covers
/// is one unknown piece scored `min score − 10`; user-defined pieces score `length · max score −
/// 0.1`; unused pieces are never chosen.
struct UnigramEncoder: Sendable {
    let model: SentencePieceVocabulary

    private struct Node {
        var startsAt = -1
        var id = -1
        var score: Float = 0
    }

    /// (start, end, id) of each piece, in order.
    func encode(_ text: UnsafeBufferPointer<UInt8>) -> [(start: Int, end: Int, id: Int)] {
        let size = text.count
        guard size > 0 else { return [] }
        // Float throughout, as unigram_model.cc keeps its path scores (ties then break alike).
        let unkScore = model.minScore - 10
        var best = [Node](repeating: Node(), count: size + 1)
        best[0].startsAt = 0
        var start = 0
        while start < size {
            let here = best[start].score
            let charLength = min(UTF8Scan.announcedLength(text[start]), size - start)
            var single = false
            model.trie.prefixes(text, from: start) { id, end in
                let kind = model.kinds[id]
                if kind == .unused { return }
                let length = end - start
                let score =
                    kind == .userDefined ? Float(Double(length) * Double(model.maxScore) - 0.1) : model.scores[id]
                let candidate = score + here
                if best[end].startsAt == -1 || candidate > best[end].score {
                    best[end] = Node(startsAt: start, id: id, score: candidate)
                }
                if length == charLength { single = true }
            }
            if !single {
                let end = start + charLength
                let candidate = unkScore + here
                if best[end].startsAt == -1 || candidate > best[end].score {
                    best[end] = Node(startsAt: start, id: model.unkID, score: candidate)
                }
            }
            start += charLength
        }
        var out: [(Int, Int, Int)] = []
        var end = size
        while end > 0 {
            let node = best[end]
            out.append((node.startsAt, end, node.id))
            end = node.startsAt
        }
        return out.reversed()
    }
}
