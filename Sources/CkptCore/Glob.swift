/// Shell-style name patterns: `*` any run of characters (slashes included, since tensor names
/// are not paths), `?` one character. Used by `--filter` and the detection signatures.
public enum Glob {
    public static func hasWildcards(_ pattern: String) -> Bool {
        pattern.contains("*") || pattern.contains("?")
    }

    public static func matches(_ pattern: String, _ text: String) -> Bool {
        // Most patterns are `prefix*`: a prefix test, no scalar arrays.
        if pattern.last == "*" {
            let prefix = pattern.dropLast()
            if !prefix.contains("*") && !prefix.contains("?") { return text.utf8.starts(with: prefix.utf8) }
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
