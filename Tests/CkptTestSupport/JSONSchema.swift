import Foundation

/// The part of JSON Schema (draft 2020-12) that docs/schemas/ uses — `type` (one or a list),
/// `const`, `properties`, `required`, `additionalProperties` (false or a schema), `items` — to
/// validate what a command printed. Returns the problems, each with its JSON path.
public enum JSONSchema {
    public static func problems(_ value: Any, against schema: [String: Any], at path: String = "$") -> [String] {
        var out: [String] = []
        if let types = schema["type"] {
            let allowed = (types as? [String]) ?? [types as! String]
            if !allowed.contains(where: { matches(value, $0) }) {
                return ["\(path): \(kind(value)), expected \(allowed.joined(separator: " or "))"]
            }
        }
        if let c = schema["const"], "\(value)" != "\(c)" { out.append("\(path): \(value), expected \(c)") }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                out.append("\(path): no \"\(key)\"")
            }
            for (key, v) in object {
                if let p = properties[key] {
                    out += problems(v, against: p, at: "\(path).\(key)")
                } else if let extra = schema["additionalProperties"] as? [String: Any] {
                    out += problems(v, against: extra, at: "\(path).\(key)")
                } else if schema["additionalProperties"] as? Bool == false {
                    out.append("\(path): \"\(key)\" is not in the schema")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, v) in array.enumerated() { out += problems(v, against: items, at: "\(path)[\(i)]") }
        }
        return out
    }

    static func matches(_ v: Any, _ type: String) -> Bool {
        switch type {
        case "null": return v is NSNull
        case "boolean": return isBool(v)
        case "integer":
            return !isBool(v) && (v as? NSNumber).map { $0.doubleValue == $0.doubleValue.rounded() } ?? false
        case "number": return !isBool(v) && v is NSNumber
        case "string": return v is String
        case "array": return v is [Any]
        case "object": return v is [String: Any]
        default: return false
        }
    }

    static func isBool(_ v: Any) -> Bool {
        // Foundation's JSON booleans are NSNumbers of type `c` (char), numbers `q` or `d`.
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    static func kind(_ v: Any) -> String {
        ["null", "boolean", "integer", "number", "string", "array", "object"].first { matches(v, $0) }
            ?? "\(type(of: v))"
    }
}
