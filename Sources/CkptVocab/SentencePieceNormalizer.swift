import CkptCore

/// SentencePiece's normalizer (normalizer.cc `Normalize`): the model's precompiled rules applied
/// to the longest matching prefix (invalid UTF-8 becomes U+FFFD), leading, trailing and repeated
/// spaces removed, spaces escaped as `▁`, and a `▁` put before the text (or after it, for models
/// trained with whitespace as suffix). Works on UTF-8 bytes, never on Swift `Character`s.
public struct SentencePieceNormalizer: Sendable {
    let spec: SentencePieceSpec
    private let charsmap: PrecompiledCharsmap?

    static let space: [UInt8] = [0xe2, 0x96, 0x81]  // ▁
    static let replacement: [UInt8] = [0xef, 0xbf, 0xbd]

    init(spec: SentencePieceSpec, file: String) throws {
        self.spec = spec
        charsmap = spec.charsmap.isEmpty ? nil : try PrecompiledCharsmap(spec.charsmap, file: file)
    }

    /// The normalized UTF-8 bytes of `text`.
    public func normalize(_ text: String) -> [UInt8] {
        var utf8 = Array(text.utf8)
        return utf8.withUnsafeMutableBufferPointer { normalize(UnsafeBufferPointer($0)) }
    }

    func normalize(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var at = 0
        if spec.removeExtraWhitespaces {
            while at < input.count {
                let (piece, length) = prefix(input, at)
                guard piece.elementsEqual([0x20]) else { break }
                at += length
            }
        }
        guard at < input.count else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 2 + 3)
        let ws: [UInt8] = spec.escapeWhitespaces ? Self.space : [0x20]
        if spec.addDummyPrefix && !spec.whitespaceAsSuffix { out += ws }
        var previousSpace = spec.removeExtraWhitespaces
        while at < input.count {
            let (piece, length) = prefix(input, at)
            var sp = piece[...]
            if previousSpace && spec.removeExtraWhitespaces {
                while sp.first == 0x20 { sp = sp.dropFirst() }
            }
            if !sp.isEmpty {
                for b in sp {
                    if spec.escapeWhitespaces && b == 0x20 { out += Self.space } else { out.append(b) }
                }
                previousSpace = sp.last == 0x20
            }
            at += length
            if !spec.removeExtraWhitespaces { previousSpace = false }
        }
        if spec.removeExtraWhitespaces {
            while out.count >= ws.count && out.suffix(ws.count).elementsEqual(ws) { out.removeLast(ws.count) }
        }
        if spec.whitespaceAsSuffix && spec.addDummyPrefix { out += ws }
        return out
    }

    /// NormalizePrefix: the longest rule's replacement, else the next UTF-8 character (U+FFFD
    /// for one byte of invalid UTF-8).
    private func prefix(_ input: UnsafeBufferPointer<UInt8>, _ at: Int) -> ([UInt8], Int) {
        if let charsmap, let m = charsmap.longestMatch(input, from: at) { return (Array(m.replacement), m.length) }
        let n = UTF8Scan.validLength(input, at)
        return n == 0 ? (Self.replacement, 1) : (Array(input[at..<at + n]), n)
    }
}

/// UTF-8 character boundaries as SentencePiece checks them.
enum UTF8Scan {
    /// The length of the valid UTF-8 character at `at`, 0 when the bytes there are not one.
    static func validLength(_ s: UnsafeBufferPointer<UInt8>, _ at: Int) -> Int {
        let b0 = s[at]
        let n: Int
        switch b0 {
        case 0..<0x80: return 1
        case 0xc2..<0xe0: n = 2
        case 0xe0..<0xf0: n = 3
        case 0xf0..<0xf5: n = 4
        default: return 0
        }
        guard at + n <= s.count else { return 0 }
        for k in 1..<n where s[at + k] & 0xc0 != 0x80 { return 0 }
        var scalar = UInt32(b0) & (0xff >> (n + 1))
        for k in 1..<n { scalar = scalar << 6 | UInt32(s[at + k] & 0x3f) }
        let minimum: UInt32 = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000
        guard scalar >= minimum, scalar <= 0x10ffff, !(0xd800...0xdfff).contains(scalar) else { return 0 }
        return n
    }

    /// SentencePiece's OneCharLen: the length the leading byte announces (1 for a stray byte).
    static func announcedLength(_ b: UInt8) -> Int {
        switch b >> 4 {
        case 0xc, 0xd: return 2
        case 0xe: return 3
        case 0xf: return 4
        default: return 1
        }
    }
}
