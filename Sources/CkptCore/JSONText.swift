/// Minimal JSON text building for the headers ckpt writes, in a fixed key order. Foundation's
/// JSONSerialization would sort keys through ICU collation, which costs a data load per process.
public enum JSONText {
    /// A JSON string literal for `s` (RFC 8259 escapes; non-ASCII kept as UTF-8).
    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// `{"k": v, ...}` from already-encoded values, in the given order.
    public static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    public static func array(_ ints: [Int]) -> String {
        "[" + ints.map(String.init).joined(separator: ",") + "]"
    }
}
