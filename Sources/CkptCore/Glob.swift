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

/// Name filters as users type them: a glob when the pattern has `*` or `?`, else a substring.
public enum NameFilter {
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        Glob.hasWildcards(pattern) ? Glob.matches(pattern, name) : contains(name, pattern)
    }

    /// A byte search (Foundation's `contains` goes through CFString search).
    static func contains(_ text: String, _ part: String) -> Bool {
        let t = Array(text.utf8), p = Array(part.utf8)
        guard !p.isEmpty else { return true }
        guard t.count >= p.count else { return false }
        return (0...(t.count - p.count)).contains { i in t[i] == p[0] && t[i..<(i + p.count)].elementsEqual(p) }
    }

    /// The `count` names closest to `pattern`: the fewest edits that make it occur in the name
    /// (case ignored; ties to the shorter name, then name order) — what to suggest when a filter
    /// matches nothing.
    public static func closest(to pattern: String, among names: [String], count: Int = 3) -> [String] {
        let p = Array(pattern.lowercased().unicodeScalars)
        return names.map { (distance(p, Array($0.lowercased().unicodeScalars)), $0) }
            .sorted { ($0.0, $0.1.utf8.count, $0.1) < ($1.0, $1.1.utf8.count, $1.1) }
            .prefix(count).map(\.1)
    }

    /// Edits to make `a` occur somewhere in `b` (Levenshtein with free ends in `b`), a row at a time.
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        var row = [Int](repeating: 0, count: b.count + 1)
        for (i, x) in a.enumerated() {
            var previous = row[0]
            row[0] = i + 1
            for (j, y) in b.enumerated() {
                let next = min(row[j + 1] + 1, row[j] + 1, previous + (x == y ? 0 : 1))
                previous = row[j + 1]
                row[j + 1] = next
            }
        }
        return row.min() ?? a.count
    }
}
