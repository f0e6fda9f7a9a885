import CkptCore
import CkptFormats
import Foundation

/// Everything `convert` decides before writing: the family (detected, decided by the config, or
/// given), the source layout, the layer count (config, checked against the names), and the plan.
public struct ConversionSetup {
    public let source: any TensorSource
    public let config: ModelConfig?
    public let table: MappingTable
    public let plan: ConversionPlan
    private let planner: ConversionPlanner

    /// - Parameters:
    ///   - model: a family name, or nil / "auto" to detect it.
    ///   - configPath: an explicit config file; else one is looked for beside the source.
    ///   - extraTables: user tables (`--mapping`), consulted with the built-in ones.
    public init(
        sourcePath: String, model: String?, configPath: String?, extraTables: [MappingTable] = [],
        options: PlanOptions
    ) throws {
        let tables = MappingTable.with(extraTables)
        // A given family is looked up before anything is read: an unknown one is bad usage.
        var given: MappingTable?
        if let model, model != "auto" {
            given = MappingTable.named(model, among: tables)
            guard given != nil else {
                throw CkptError(
                    .badUsage,
                    "--model: unknown family '\(model)' "
                        + "(known: \(tables.map(\.family).sorted().joined(separator: ", ")))")
            }
        }
        let opened = try CheckpointOpener.open(sourcePath)
        let folder = FileSystem.isDirectory(sourcePath) ? sourcePath : FileSystem.dirname(opened.path)
        var config = try configPath.map { try ModelConfig(path: $0) } ?? ModelConfig.find(besides: folder)
        var names = opened.tensors.map(\.name) + opened.tensors.compactMap(\.groupKey)
        let (family, detected) = try Self.family(of: opened, names: names, given: given, config: config, tables: tables)
        // A native file ckpt wrote says so (its names may also fit another layout's rules).
        let layout: Layout = opened.metadata["ckpt_layout"] == Layout.native.rawValue ? .native : detected
        table = MappingTable.named(family, among: tables)!
        // A GGUF file carries its hyper-parameters: read back under the config keys its table names.
        if config == nil, let gguf = opened as? GGUFReader, let template = table.gguf {
            config = GGUFMetadata.config(of: gguf, template: template)
        }
        self.config = config
        if options.targetLayout == .gguf && table.gguf == nil {
            throw GGUFMetadata.unsupported(family, file: opened.path)
        }
        // A base-model file (`BertModel`) is read under the prefix the family's rules name.
        if layout == .hf, let renaming = HubPrefix.renaming(names, table: table) {
            source = RenamedSource(opened, renaming: renaming)
            names = source.tensors.map(\.name)
        } else {
            source = opened
        }
        let layers = try Self.layerCount(table, layout: layout, names: names, config: config)
        planner = ConversionPlanner(table: table, sourceLayout: layout, layerCount: layers, sourcePath: source.path)
        var options = options
        for rule in table.generated?[options.targetLayout.rawValue] ?? [] {
            options.generated[rule.name] = try TensorGenerator.resolve(rule, config: config, file: source.path)
        }
        do {
            plan = try planner.plan(source.tensors, options: options)
            try Self.checkAgainstConfig(plan, config: config, file: source.path)
        } catch let error as CkptError {
            throw (source as? RenamedSource)?.userFacing(error) ?? error
        }
    }

    /// The family (given, detected from the names, or decided by the config or the file's own
    /// `ckpt_family`) and the layout the source's names are in.
    static func family(
        of source: any TensorSource, names: [String], given: MappingTable?, config: ModelConfig?, tables: [MappingTable]
    ) throws -> (String, Layout) {
        if let given { return (given.family, Self.bestLayout(given, names: Set(names))) }
        let detector = ArchitectureDetector(tables: tables)
        switch detector.decide(detector.detect(names), config: config, names: Set(names)) {
        case .family(let f, let l):
            return (f, l)
        case .ambiguous(let fs, let l):
            if let hint = source.metadata["ckpt_family"], fs.contains(hint) { return (hint, l) }
            throw CkptError(
                .unsupported, file: source.path,
                "the names fit several families (\(fs.joined(separator: ", "))); "
                    + "give --model or a config that says which")
        case .unknown:
            throw CkptError(.unknownFormat, file: source.path, "no model family fits these tensor names; give --model")
        }
    }

    /// The layer count: the config's, checked against the layers the names hold (ALBERT keeps one
    /// shared layer whatever the depth: its names carry no layer count).
    static func layerCount(_ table: MappingTable, layout: Layout, names: [String], config: ModelConfig?) throws -> Int {
        let inferred = ConversionPlanner.inferLayerCount(table: table, layout: layout, names: Set(names))
        guard let config, let n = config.layerCount else { return inferred }
        if inferred > 0 && n != inferred && Self.hasLayeredSourceNames(table, layout: layout) {
            throw CkptError(
                .sizeMismatch, file: config.path, "config says \(n) layers, the checkpoint holds \(inferred)")
        }
        return n
    }

    /// Each canonical tensor's name in the source file (`a + b` when several tensors make it).
    public var userNames: [String: String] { Self.userNames((try? nativePlan()) ?? plan, source: source) }

    /// Each canonical tensor of a native plan, named as the source file names it.
    public static func userNames(_ nativePlan: ConversionPlan, source: any TensorSource) -> [String: String] {
        let original = (source as? RenamedSource)?.originalNames ?? [:]
        var names: [String: String] = [:]
        for output in nativePlan.outputs {
            guard let native = output.nativeName else { continue }
            names[native] = output.inputs.map { original[$0.source.name] ?? $0.source.name }.joined(separator: " + ")
        }
        return names
    }

    /// The plan into the native layout, whatever the target (names and shapes only, no data read):
    /// what a model built from this source would use.
    public func nativePlan() throws -> ConversionPlan {
        if plan.targetLayout == .native && !plan.outputs.contains(where: { $0.selection != nil }) { return plan }
        var options = PlanOptions()
        options.allowUnmapped = true
        return try planner.plan(source.tensors, options: options)
    }

    /// Whether the source layout names layers with an index (ALBERT's shared layer does not).
    static func hasLayeredSourceNames(_ table: MappingTable, layout: Layout) -> Bool {
        table.rules.contains { rule in
            let t = layout == .native ? rule.native : rule.layouts[layout]?.template
            return t.map(LayerTemplate.hasIndex) ?? false
        }
    }

    /// The layout whose layer-0 names cover the most source names.
    static func bestLayout(_ table: MappingTable, names: Set<String>) -> Layout {
        var best = (Layout.native, -1)
        for layout in [Layout.native] + table.layouts.sorted() {
            let covered = table.rules.filter { rule in
                let t = layout == .native ? rule.native : rule.layouts[layout]?.template
                return t.map { names.contains(LayerTemplate.expand($0, layer: 0)) } ?? false
            }.count
            if covered > best.1 { best = (layout, covered) }
        }
        return best.0
    }

    /// Shapes that contradict the config: vocabulary rows and hidden size, naming the tensor.
    static func checkAgainstConfig(_ plan: ConversionPlan, config: ModelConfig?, file: String) throws {
        guard let config else { return }
        for out in plan.outputs {
            guard let native = out.nativeName, let input = out.inputs.first else { continue }
            let shape = input.nativeShape
            if native == "embeddings.token.weight", let v = config.int("vocab_size", "n_vocab"), shape.first != v {
                throw CkptError(
                    .sizeMismatch, file: file, tensor: input.source.name,
                    "config vocab_size is \(v), the token embedding has \(shape.first ?? 0) rows")
            }
            if native.hasSuffix(".attention.query.weight"), let h = config.int("hidden_size", "d_model", "n_embd"),
                shape.first != h
            {
                throw CkptError(
                    .sizeMismatch, file: file, tensor: input.source.name,
                    "config hidden size is \(h), the query kernel takes \(shape.first ?? 0) inputs")
            }
        }
    }
}

/// Byte sizes as users write them: `500MB`, `5GB` (powers of 1000), `2GiB` (powers of 1024), `1234`.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Double)] = [
            ("KIB", 1024), ("MIB", 1_048_576), ("GIB", 1_073_741_824), ("TIB", 1_099_511_627_776),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("B", 1),
        ]
        for (u, f) in units where t.hasSuffix(u) {
            guard let v = Double(t.dropLast(u.count).trimmingCharacters(in: .whitespaces)), v > 0, v * f < 9e18 else {
                return nil
            }
            return Int(v * f)
        }
        guard let v = Int(t), v > 0 else { return nil }
        return v
    }
}
