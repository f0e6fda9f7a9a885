import CkptCore

/// SentencePiece's precompiled normalization rules (`precompiled_charsmap`): a little-endian
/// uint32 size, a darts-clone double-array trie of that many bytes over UTF-8 input, then the
/// NUL-terminated replacement strings the trie's values point into. Rules apply to the longest
/// matching prefix, as normalizer.cc's NormalizePrefix does.
struct PrecompiledCharsmap: Sendable {
    private let units: [UInt32]
    private let replacements: [UInt8]

    init(_ blob: [UInt8], file: String) throws {
        func bad(_ why: String) -> CkptError {
            CkptError(.malformed, file: file, tensor: "normalizer_spec.precompiled_charsmap", why)
        }
        guard blob.count >= 4 else { throw bad("shorter than its 4-byte header") }
        let size = Int(blob[0]) | Int(blob[1]) << 8 | Int(blob[2]) << 16 | Int(blob[3]) << 24
        guard size % 4 == 0, size >= 4, size <= blob.count - 4 else { throw bad("trie size \(size) does not fit") }
        units = stride(from: 4, to: 4 + size, by: 4).map { i in
            UInt32(blob[i]) | UInt32(blob[i + 1]) << 8 | UInt32(blob[i + 2]) << 16 | UInt32(blob[i + 3]) << 24
        }
        replacements = Array(blob[(4 + size)...])
    }

    /// The replacement of the longest rule matching a prefix of `input[from...]`, and how many
    /// bytes it consumes; nil when no rule matches.
    func longestMatch(_ input: UnsafeBufferPointer<UInt8>, from: Int) -> (replacement: ArraySlice<UInt8>, length: Int)?
    {
        var node = 0
        var best: (value: Int, length: Int)?
        guard !units.isEmpty else { return nil }
        node ^= Self.offset(units[0])
        var i = from
        while i < input.count {
            let byte = Int(input[i])
            node ^= byte
            guard node >= 0, node < units.count else { break }
            let unit = units[node]
            guard Self.label(unit) == UInt32(byte) else { break }
            node ^= Self.offset(unit)
            if Self.hasLeaf(unit) {
                guard node >= 0, node < units.count else { break }
                best = (Int(units[node] & 0x7fff_ffff), i - from + 1)
            }
            i += 1
        }
        guard let best, best.value < replacements.count else { return nil }
        var end = best.value
        while end < replacements.count && replacements[end] != 0 { end += 1 }
        return (replacements[best.value..<end], best.length)
    }

    // darts-clone DoubleArrayUnit
    private static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    private static func label(_ u: UInt32) -> UInt32 { u & (1 << 31 | 0xff) }
    private static func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }
}
