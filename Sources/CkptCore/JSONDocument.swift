import Foundation

/// The JSON documents ckpt prints or writes for people and scripts (reports, indexes): one
/// writer, so every one is formatted alike — indented, keys sorted, slashes unescaped.
public enum JSONDocument {
    /// `object` (dictionaries, arrays, strings, numbers, booleans, NSNull) as text ending in a
    /// newline. Numbers JSON cannot hold (infinities, NaN) are written as the strings "inf",
    /// "-inf" and "nan".
    public static func text(_ object: Any) -> String {
        String(decoding: bytes(object), as: UTF8.self)
    }

    public static func bytes(_ object: Any) -> [UInt8] {
        // Only report builders call this, with plain Foundation values: a failure is a
        // programming error, not bad input.
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: representable(object),
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else {
            preconditionFailure("not a JSON value: \(type(of: object))")
        }
        return Array(data) + [0x0a]
    }

    static func representable(_ v: Any) -> Any {
        switch v {
        case let d as [String: Any]: return d.mapValues(representable)
        case let a as [Any]: return a.map(representable)
        case let x as Double where !x.isFinite: return name(x)
        case let x as Float where !x.isFinite: return name(Double(x))
        default: return v
        }
    }

    static func name(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        return x > 0 ? "inf" : "-inf"
    }
}

extension JSONDocument {
    /// `object` on one line (JSON Lines), keys sorted, no newline.
    public static func line(_ object: Any) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: representable(object),
                options: [
                    .sortedKeys,
                    .withoutEscapingSlashes,
                ])
        else { preconditionFailure("not a JSON value: \(type(of: object))") }
        return String(decoding: data, as: UTF8.self)
    }
}
