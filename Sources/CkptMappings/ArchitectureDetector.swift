import CkptCore

/// What detection concluded about a checkpoint.
public enum DetectedArchitecture: Equatable, Sendable {
    case family(String, layout: Layout)
    /// Several families fit the names (NEZHA and RoFormer share every TF name): the config or
    /// `--model` must decide.
    case ambiguous([String], layout: Layout)
    case unknown

    /// `bert`, `ambiguous`, `unknown`.
    public var name: String {
        switch self {
        case .family(let f, _): return f
        case .ambiguous: return "ambiguous"
        case .unknown: return "unknown"
        }
    }

    public var layout: Layout? {
        switch self {
        case .family(_, let l), .ambiguous(_, let l): return l
        case .unknown: return nil
        }
    }

    public var candidates: [String] {
        switch self {
        case .family(let f, _): return [f]
        case .ambiguous(let fs, _): return fs
        case .unknown: return []
        }
    }
}

/// Finds the family of a checkpoint from its tensor names, by the signatures in the mapping
/// tables (and, for the `native` and `hf` layouts, by which family's rules cover the names). No
/// family is special-cased here: a family is added by adding its file.
public struct ArchitectureDetector: Sendable {
    public let tables: [MappingTable]

    public init(tables: [MappingTable] = MappingTable.builtIn) {
        self.tables = tables
    }

    /// `names` are the source's names, with Keras weights also under their `LAYER#k` keys.
    public func detect(_ names: [String]) -> DetectedArchitecture {
        let present = Set(names)
        var hits: [(family: String, layout: Layout)] = []
        for table in tables {
            for (layout, sig) in table.detect.sorted(by: { $0.key < $1.key }) where Self.matches(sig, present) {
                hits.append((table.family, Layout(layout)))
                break
            }
        }
        if hits.isEmpty { hits = coverageMatches(present) }
        switch hits.count {
        case 0: return .unknown
        case 1: return .family(hits[0].family, layout: hits[0].layout)
        default:
            // Families ambiguous in one layout (the first found); others would be a table defect.
            return .ambiguous(hits.map(\.family).sorted(), layout: hits[0].layout)
        }
    }

    /// Narrows an ambiguous result with the config: a family whose config signature matches. A
    /// config naming its family (`ckpt_family`, written by convert and the fixtures) also decides
    /// between families whose names coincide although only one was detected (ALBERT_Unshared is
    /// loaded from ALBERT's shared TF release), when that family's rules read these names.
    public func decide(_ detected: DetectedArchitecture, config: ModelConfig?, names: Set<String> = [])
        -> DetectedArchitecture
    {
        if case .family(let found, let layout) = detected, let named = config?.string("ckpt_family"), named != found,
            let table = MappingTable.named(named, among: tables), Self.reads(table, layout: layout, names)
        {
            return .family(named, layout: layout)
        }
        if case .unknown = detected, let config { return byModelType(config, names: names) }
        guard case .ambiguous(let families, let layout) = detected, let config else { return detected }
        if let named = config.string("ckpt_family"), families.contains(named) { return .family(named, layout: layout) }
        if let type = config.string("model_type") {
            let byType = families.filter {
                MappingTable.named($0, among: tables)?.hub?.modelTypes?.contains(type) ?? false
            }
            if byType.count == 1 { return .family(byType[0], layout: layout) }
        }
        let fitting = families.filter { f in
            guard let sig = MappingTable.named(f, among: tables)?.configSignature else { return false }
            let keysFit = sig.keys.map { $0.contains { config.has($0) } } ?? true
            let valuesFit = sig.values.map { $0.allSatisfy { config.string($0.key) == $0.value } } ?? true
            return keysFit && valuesFit
        }
        if fitting.count == 1 { return .family(fitting[0], layout: layout) }
        return detected
    }

    /// The family whose `hub.model_types` holds the config's `model_type` and whose rules read the
    /// names in some layout (names saved under another prefix than transformers' own, say).
    func byModelType(_ config: ModelConfig, names: Set<String>) -> DetectedArchitecture {
        guard let type = config.string("model_type") else { return .unknown }
        let fitting = tables.filter { $0.hub?.modelTypes?.contains(type) ?? false }
        let reading = fitting.filter { Self.reads($0, layout: .hf, HubPrefix.prefixed(names, table: $0)) }
        return reading.count == 1 ? .family(reading[0].family, layout: .hf) : .unknown
    }

    /// Every required rule of `table`, at layer 0, names a tensor in `names` in `layout`.
    static func reads(_ table: MappingTable, layout: Layout, _ names: Set<String>) -> Bool {
        let required = table.rules.filter { !$0.optional }.compactMap { rule in
            (layout == .native ? rule.native : rule.layouts[layout]?.template).map {
                LayerTemplate.expand($0, layer: 0)
            }
        }
        return !required.isEmpty && required.allSatisfy(names.contains)
    }

    static func matches(_ sig: MappingTable.Signature, _ present: Set<String>) -> Bool {
        func has(_ pattern: String) -> Bool {
            if !Glob.hasWildcards(pattern) { return present.contains(pattern) }
            return present.contains { Glob.matches(pattern, $0) }
        }
        return sig.require.allSatisfy(has) && !(sig.forbid ?? []).contains(where: has)
    }

    /// For layouts without signatures (`native`, `hf`): families whose required layer-0 and
    /// global names are all present, keeping those that account for the most of the names. A file
    /// saved from a base-model class (`BertModel`) is read as its names under the family's prefix.
    private func coverageMatches(_ present: Set<String>) -> [(family: String, layout: Layout)] {
        var scored: [(family: String, layout: Layout, covered: Int)] = []
        for table in tables {
            for layout in [Layout.native, .hf] {
                let present = layout == .hf ? HubPrefix.prefixed(present, table: table) : present
                let names = table.rules.compactMap { rule -> (String, Bool)? in
                    let t = layout == .native ? rule.native : rule.layouts[layout]?.template
                    return t.map { (LayerTemplate.expand($0, layer: 0), rule.optional) }
                }
                guard names.contains(where: { !$0.1 }), names.allSatisfy({ $0.1 || present.contains($0.0) }) else {
                    continue
                }
                scored.append((table.family, layout, names.filter { present.contains($0.0) }.count))
            }
        }
        guard let best = scored.map(\.covered).max() else { return [] }
        return scored.filter { $0.covered == best }.map { ($0.family, $0.layout) }
    }
}
