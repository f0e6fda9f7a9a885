/// Shell-style name patterns: `*` any run of characters (slashes included, since tensor names
/// are not paths), `?` one character. Used by `--filter` and the detection signatures.
public enum Glob {
    public static func hasWildcards(_ pattern: String) -> Bool {
        pattern.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }
    }

    public static func matches(_ pattern: String, _ text: String) -> Bool {
        // Most patterns are `prefix*` or `*suffix`: a byte comparison, no scalar arrays.
        let u = pattern.utf8
        let asterisk = UInt8(ascii: "*")
        if u.last == asterisk, !hasWildcards(String(pattern.dropLast())) {
            return text.utf8.starts(with: u.dropLast())
        }
        if u.first == asterisk, !hasWildcards(String(pattern.dropFirst())) {
            return text.utf8.count >= u.count - 1 && text.utf8.reversed().starts(with: u.dropFirst().reversed())
        }
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
        var pi = 0, ti = 0
        var star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
