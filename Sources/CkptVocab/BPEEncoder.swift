/// SentencePiece's BPE segmentation (bpe_model.cc `Encode`): the text split into characters
/// (user-defined pieces kept whole), then, repeatedly, the adjacent pair whose concatenation is
/// the best-scoring piece merged (the leftmost among equals). Merges into unused pieces are
/// undone at the end, back into the pieces they were made of.
struct BPEEncoder: Sendable {
    let model: SentencePieceVocabulary

    private struct Symbol {
        var prev: Int
        var next: Int
        var start: Int
        var end: Int
        var alive = true
    }

    private struct Pair: Comparable {
        let score: Float
        let left: Int
        let right: Int
        let size: Int

        // The best score first; among equal scores the leftmost (bpe_model.cc SymbolPairComparator).
        static func < (a: Pair, b: Pair) -> Bool {
            a.score != b.score ? a.score < b.score : a.left > b.left
        }
    }

    func encode(_ text: UnsafeBufferPointer<UInt8>) -> [(start: Int, end: Int, id: Int)] {
        var symbols = initialSymbols(text)
        guard !symbols.isEmpty else { return [] }
        var agenda = Heap<Pair>()
        var unusedSplits: [Range<Int>: (Range<Int>, Range<Int>)] = [:]
        func consider(_ l: Int, _ r: Int) {
            guard l >= 0, r >= 0, r < symbols.count else { return }
            let range = symbols[l].start..<symbols[r].end
            guard let id = model.trie.id(of: text[range]) else { return }
            agenda.push(Pair(score: model.scores[id], left: l, right: r, size: range.count))
            if model.kinds[id] == .unused {
                unusedSplits[range] = (symbols[l].start..<symbols[l].end, symbols[r].start..<symbols[r].end)
            }
        }
        for i in 1..<symbols.count { consider(i - 1, i) }
        while let top = agenda.pop() {
            let (l, r) = (top.left, top.right)
            guard symbols[l].alive, symbols[r].alive,
                symbols[l].end - symbols[l].start + symbols[r].end
                    - symbols[r].start == top.size, symbols[l].next == r
            else { continue }
            symbols[l].end = symbols[r].end
            symbols[l].next = symbols[r].next
            symbols[r].alive = false
            if symbols[l].next >= 0 { symbols[symbols[l].next].prev = l }
            consider(symbols[l].prev, l)
            consider(l, symbols[l].next)
        }
        var out: [(Int, Int, Int)] = []
        var i = 0
        while i >= 0 {
            resegment(symbols[i].start..<symbols[i].end, text, unusedSplits, into: &out)
            i = symbols[i].next
        }
        return out
    }

    private func resegment(
        _ range: Range<Int>, _ text: UnsafeBufferPointer<UInt8>, _ splits: [Range<Int>: (Range<Int>, Range<Int>)],
        into out: inout [(Int, Int, Int)]
    ) {
        let id = model.trie.id(of: text[range])
        if let id, model.kinds[id] == .unused, let (a, b) = splits[range] {
            resegment(a, text, splits, into: &out)
            resegment(b, text, splits, into: &out)
            return
        }
        out.append((range.lowerBound, range.upperBound, id ?? model.unkID))
    }

    /// Characters, or a whole user-defined piece where one starts (the longest).
    private func initialSymbols(_ text: UnsafeBufferPointer<UInt8>) -> [Symbol] {
        var symbols: [Symbol] = []
        var at = 0
        while at < text.count {
            var length = min(UTF8Scan.announcedLength(text[at]), text.count - at)
            model.trie.prefixes(text, from: at) { id, end in
                if model.kinds[id] == .userDefined { length = max(length, end - at) }
            }
            symbols.append(Symbol(prev: symbols.count - 1, next: symbols.count + 1, start: at, end: at + length))
            at += length
        }
        if !symbols.isEmpty { symbols[symbols.count - 1].next = -1 }
        return symbols
    }
}

/// A binary max-heap.
struct Heap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[parent] < items[i] else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let (l, r) = (2 * i + 1, 2 * i + 2)
            var largest = i
            if l < items.count && items[largest] < items[l] { largest = l }
            if r < items.count && items[largest] < items[r] { largest = r }
            if largest == i { break }
            items.swapAt(i, largest)
            i = largest
        }
        return top
    }
}
