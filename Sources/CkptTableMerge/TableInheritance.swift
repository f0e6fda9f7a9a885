import Foundation

/// `"extends": "bert"`: a family table written as the differences from another. The child is a
/// JSON Merge Patch (RFC 7386) of its base — objects merge key by key, `null` removes a key,
/// arrays and values replace — with two additions for what tables hold:
/// - `rename`: `{LAYOUT: [[FROM, TO], ...]}` replaces the prefix FROM by TO in the base's names of
///   that layout (in its rules, and in `hf_tied` for the `hf` layout) before the patch;
/// - `drop_layouts`: `[LAYOUT, ...]` removes those layouts' names from the base's rules (NEZHA
///   extends BERT but is no model llama.cpp's `bert` architecture runs: no `gguf` names);
/// - `rules` merge by `native` name: a child rule naming a base rule patches it (`"remove": true`
///   drops it), a new rule goes before the next child rule that names a base rule (at the end
///   when none follows).
///
/// Its own module, with Foundation only, so the build plugin that embeds `Mappings/` resolves the
/// built-in tables at build time (the binary decodes them as they are) and `--mapping` tables are
/// resolved at run time by the same code.
public enum TableInheritance {
    /// Why a table cannot be resolved (the caller names the file).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The most tables one chain of `extends` may hold (a loop is an error, not a hang).
    static let maxDepth = 8

    /// The table `object` describes once its `extends` chain is resolved; `base(name)` gives the
    /// raw JSON of another table by family name.
    public static func resolve(
        _ object: [String: Any], origin: String, depth: Int = 0,
        base: (String) -> [String: Any]?
    ) throws -> [String: Any] {
        guard let parent = object["extends"] else { return object }
        guard let name = parent as? String, let raw = base(name) else {
            throw Failure("extends '\(parent)': no such family table")
        }
        guard depth < maxDepth else {
            throw Failure("extends goes \(maxDepth) tables deep (a loop?)")
        }
        var result = try resolve(raw, origin: origin, depth: depth + 1, base: base)
        var patch = object
        patch["extends"] = nil
        if let rename = patch.removeValue(forKey: "rename") {
            guard let renames = rename as? [String: [[String]]],
                renames.values.allSatisfy({ $0.allSatisfy { $0.count == 2 } })
            else {
                throw Failure("rename is {layout: [[from, to], ...]}")
            }
            result = renamed(result, renames)
        }
        if let drop = patch.removeValue(forKey: "drop_layouts") {
            guard let layouts = drop as? [String] else { throw Failure("drop_layouts is [layout, ...]") }
            if var rules = result["rules"] as? [[String: Any]] {
                for k in rules.indices { for l in layouts { rules[k][l] = nil } }
                result["rules"] = rules
            }
        }
        if let rules = patch.removeValue(forKey: "rules") {
            guard let childRules = rules as? [[String: Any]], let baseRules = result["rules"] as? [[String: Any]] else {
                throw Failure("rules must be a list of objects")
            }
            result["rules"] = try mergedRules(baseRules, childRules, origin: origin)
        }
        return mergePatch(result, patch) as! [String: Any]
    }

    /// RFC 7386: `patch` applied to `target`.
    static func mergePatch(_ target: Any?, _ patch: Any) -> Any {
        guard let p = patch as? [String: Any] else { return patch }
        var t = target as? [String: Any] ?? [:]
        for (key, value) in p {
            if value is NSNull { t[key] = nil } else { t[key] = mergePatch(t[key], value) }
        }
        return t
    }

    static func mergedRules(_ base: [[String: Any]], _ child: [[String: Any]], origin: String) throws -> [[String: Any]]
    {
        var result = base
        func index(_ native: String) -> Int? { result.firstIndex { $0["native"] as? String == native } }
        var pending: [[String: Any]] = []
        for rule in child {
            guard let native = rule["native"] as? String else {
                throw Failure("a rule without a native name")
            }
            guard let i = index(native) else {
                pending.append(rule)
                continue
            }
            // New rules listed before this one go just before it.
            result.insert(contentsOf: pending, at: i)
            let j = i + pending.count
            pending = []
            if rule["remove"] as? Bool == true {
                result.remove(at: j)
            } else {
                result[j] = mergePatch(result[j], rule) as! [String: Any]
            }
        }
        return result + pending
    }

    /// The base's names of each renamed layout, with the prefixes replaced.
    static func renamed(_ table: [String: Any], _ renames: [String: [[String]]]) -> [String: Any] {
        func apply(_ name: String, _ pairs: [[String]]) -> String {
            for pair in pairs where name.hasPrefix(pair[0]) { return pair[1] + name.dropFirst(pair[0].count) }
            return name
        }
        var t = table
        if var rules = t["rules"] as? [[String: Any]] {
            for (layout, pairs) in renames {
                for k in rules.indices {
                    if let s = rules[k][layout] as? String {
                        rules[k][layout] = apply(s, pairs)
                    } else if var d = rules[k][layout] as? [String: Any], let s = d["name"] as? String {
                        d["name"] = apply(s, pairs)
                        rules[k][layout] = d
                    }
                }
            }
            t["rules"] = rules
        }
        if let pairs = renames["hf"], let tied = t["hf_tied"] as? [String: String] {
            t["hf_tied"] = Dictionary(
                tied.map { (apply($0.key, pairs), apply($0.value, pairs)) }, uniquingKeysWith: { a, _ in a })
        }
        return t
    }
}
