import CkptCore

/// What detection concluded about a checkpoint.
public enum DetectedArchitecture: Equatable, Sendable {
    case family(String, layout: String)
    /// Several families fit the names (NEZHA and RoFormer share every TF name): the config or
    /// `--model` must decide.
    case ambiguous([String])
    case unknown

    /// `bert`, `ambiguous`, `unknown`.
    public var name: String {
        switch self {
        case .family(let f, _): return f
        case .ambiguous: return "ambiguous"
        case .unknown: return "unknown"
        }
    }

    public var candidates: [String] {
        switch self {
        case .family(let f, _): return [f]
        case .ambiguous(let fs): return fs
        case .unknown: return []
        }
    }
}

/// Finds the family of a checkpoint from its tensor names alone, by the signatures in the
/// mapping tables. No table is special-cased here: a family is added by adding its file.
public struct ArchitectureDetector: Sendable {
    public let tables: [MappingTable]

    public init(tables: [MappingTable] = MappingTable.builtIn) {
        self.tables = tables
    }

    public func detect(_ names: [String]) -> DetectedArchitecture {
        let present = Set(names)
        var hits: [(family: String, layout: String)] = []
        for table in tables {
            for (layout, sig) in table.detect.sorted(by: { $0.key < $1.key }) where Self.matches(sig, present) {
                hits.append((table.family, layout))
                break
            }
        }
        switch hits.count {
        case 0: return .unknown
        case 1: return .family(hits[0].family, layout: hits[0].layout)
        default: return .ambiguous(hits.map(\.family).sorted())
        }
    }

    static func matches(_ sig: MappingTable.Signature, _ present: Set<String>) -> Bool {
        func has(_ pattern: String) -> Bool {
            if !Glob.hasWildcards(pattern) { return present.contains(pattern) }
            return present.contains { Glob.matches(pattern, $0) }
        }
        return sig.require.allSatisfy(has) && !(sig.forbid ?? []).contains(where: has)
    }
}
