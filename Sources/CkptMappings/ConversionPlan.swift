import CkptCore
import CkptFormats

/// Where one output tensor's values come from: one source tensor, or the parts of one.
public struct PlannedInput: Sendable {
    public let source: TensorInfo
    /// How the source layout relates to the native tensor.
    public let fromSource: LayoutName
    /// The native tensor's shape.
    public let nativeShape: [Int]
    /// How the target layout relates to the native tensor.
    public let toTarget: LayoutName

    /// The target holds the source's bytes as they are: no change either way, or a transpose into
    /// native and the same transpose out (an hf matrix written to GGUF, both `[out, in]`).
    public var keepsBytes: Bool {
        func onlyTransposes(_ l: LayoutName) -> Bool { l.transpose && l.squeeze == nil && l.part == nil }
        return (fromSource.isIdentity && toTarget.isIdentity)
            || (onlyTransposes(fromSource) && onlyTransposes(toTarget))
    }
}

/// One tensor to write.
public struct PlannedOutput: Sendable {
    public let name: String
    public let nativeName: String?
    public let dtype: DType
    public let shape: [Int]
    /// Several inputs when the target fuses native tensors (`part`), in part order.
    public let inputs: [PlannedInput]
    /// The vocabulary axis in the output's own orientation.
    public let vocabAxis: Int?
    /// Vocabulary rows to keep along `vocabAxis` (`prune`); the shape already has the new size.
    public let selection: VocabularySelection?
    /// Computed from the config instead of read (then `inputs` is empty).
    public var generator: TensorGenerator? = nil

    public var byteCount: Int { ShapeMath.byteCount(shape, dtype) ?? 0 }

    /// The same output produced in another dtype.
    func with(dtype: DType) -> PlannedOutput {
        var o = PlannedOutput(
            name: name, nativeName: nativeName, dtype: dtype, shape: shape, inputs: inputs, vocabAxis: vocabAxis,
            selection: selection)
        o.generator = generator
        return o
    }

    /// Bytes can go from source to output untouched.
    public var isPassThrough: Bool {
        inputs.count == 1 && inputs[0].keepsBytes
            && inputs[0].source.dtype == dtype
            && inputs[0].source.shape == shape && selection == nil
    }
}

/// A tensor of the source that will not be written, and why.
public struct DroppedTensor: Sendable {
    public enum Reason: String, Sendable {
        case optimizerSlot = "optimizer slot"
        case bookkeeping = "format bookkeeping"
        case derived = "derived from the config"
        case noTargetName = "no name in the target layout"
        case unusedByLlamaCpp = "llama.cpp does not use them"
        case buffer = "buffers transformers recomputes"
        case tied = "tied to a weight that is written"
        case taskHead = "task heads bert4keras has no layer for"
    }

    public let tensor: TensorInfo
    public let reason: Reason
}

/// What a conversion will do, computed from names and shapes alone before any data is read.
public struct ConversionPlan: Sendable {
    public let family: String
    public let sourceLayout: Layout
    public let targetLayout: Layout
    public let layerCount: Int
    public internal(set) var outputs: [PlannedOutput]
    public let dropped: [DroppedTensor]
    /// Source tensors kept under their own names (`--allow-unmapped`).
    public let unmapped: [TensorInfo]
    /// For a GGUF target: the file type and each tensor's ggml type.
    public var ggufFileType: GGUFFileType? = nil
    public var ggufTypes: [String: GGMLType] = [:]

    /// Rows of the token embedding (the vocabulary the checkpoint reserves).
    public var vocabularyRows: Int? {
        outputs.first { $0.nativeName == "embeddings.token.weight" }?.inputs.first?.nativeShape.first
    }

    /// Rows of the absolute position embedding, when the model has one.
    public var maxPositions: Int? {
        outputs.first { $0.nativeName == "embeddings.position.weight" }?.inputs.first?.nativeShape.first
    }
}

/// Options of a conversion that change the plan.
public struct PlanOptions: Sendable {
    public var targetLayout = Layout.native
    /// Cast floating-point tensors to this dtype (nil: keep).
    public var dtype: DType?
    public var keepOptimizer = false
    public var allowUnmapped = false
    /// Prune the vocabulary rows of every tensor whose rule names a vocabulary axis.
    public var vocabulary: VocabularySelection?
    /// Tokens in the vocabulary file the selection refers to (checked against the tensors).
    public var vocabularySize: Int?
    /// Target tensors computed rather than read, by target name (NEZHA's Keras table).
    public var generated: [String: TensorGenerator] = [:]
    /// The GGUF file type (`--layout gguf`); nil keeps the source's float dtype.
    public var ggufFileType: GGUFFileType?

    public init() {}
}

/// Builds the plan: expands the family's rules over the layers, finds each rule's source tensor,
/// checks shapes, and accounts for every source tensor (mapped, dropped with a reason, or an error).
public struct ConversionPlanner {
    public let table: MappingTable
    public let sourceLayout: Layout
    public let layerCount: Int
    public let sourcePath: String

    public init(table: MappingTable, sourceLayout: Layout, layerCount: Int, sourcePath: String) {
        self.table = table
        self.sourceLayout = sourceLayout
        self.layerCount = layerCount
        self.sourcePath = sourcePath
    }

    /// The number of layers the source holds, from the largest layer index its names use.
    public static func inferLayerCount(table: MappingTable, layout: Layout, names: Set<String>) -> Int {
        var count = 0
        for rule in table.rules {
            guard let t = (layout == .native ? rule.native : rule.layouts[layout]?.template), LayerTemplate.hasIndex(t)
            else { continue }
            var i = 0
            while i < 100_000 && names.contains(LayerTemplate.expand(t, layer: i)) { i += 1 }
            count = max(count, i)
        }
        return count
    }

    /// One rule at one layer, bound to the source tensor it reads.
    struct Binding {
        let rule: MappingRule
        let layer: Int?
        let input: PlannedInput
    }

    func fail(_ kind: CkptError.Kind, _ tensor: String?, _ why: String) -> CkptError {
        CkptError(kind, file: sourcePath, tensor: tensor, why)
    }

    /// Names and shapes only: bind every rule to its source tensors, fuse them into the target's
    /// tensors, and account for every source tensor left over.
    public func plan(_ tensors: [TensorInfo], options: PlanOptions) throws -> ConversionPlan {
        let (bound, used) = try bind(tensors, options: options)
        var (outputs, dropped) = try fuse(bound, options: options)
        let unmapped = try account(tensors, used: used, options: options, outputs: &outputs, dropped: &dropped)
        var plan = ConversionPlan(
            family: table.family, sourceLayout: sourceLayout, targetLayout: options.targetLayout,
            layerCount: layerCount, outputs: outputs, dropped: dropped, unmapped: unmapped)
        if options.targetLayout == .gguf {
            let embedding = outputs.first { $0.nativeName == "embeddings.token.weight" }?.inputs.first?.source.dtype
            let fileType = options.ggufFileType ?? GGUFFileType.keeping(embedding ?? .float32)
            (plan.outputs, plan.ggufTypes) = GGUFTensorTypes.assign(outputs, fileType: fileType)
            plan.ggufFileType = fileType
        }
        return plan
    }

    /// 1. Every rule, expanded over the layers, bound to its source tensor; a required one missing
    /// is an error (rules whose every copy is missing in an optional group are fine).
    func bind(_ tensors: [TensorInfo], options: PlanOptions) throws -> (bound: [Binding], used: Set<String>) {
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let byGroupKey = Dictionary(
            tensors.compactMap { t in t.groupKey.map { ($0, t) } }, uniquingKeysWith: { a, _ in a })
        func lookup(_ name: String) -> TensorInfo? {
            sourceLayout == .keras ? (byGroupKey[name] ?? byName[name]) : byName[name]
        }
        var bound: [Binding] = []
        var used = Set<String>()
        var missing: [String] = []
        for rule in table.rules {
            let fromSource: LayoutName
            if sourceLayout == .native {
                fromSource = LayoutName(template: rule.native)
            } else if let l = rule.layouts[sourceLayout] {
                fromSource = l
            } else {
                continue
            }
            // No target name: an empty template, dropped as "no target name" by `fuse`.
            let toTarget =
                options.targetLayout == .native
                ? LayoutName(template: "")
                : rule.layouts[options.targetLayout] ?? LayoutName(template: "")
            let layered = LayerTemplate.hasIndex(rule.native) || LayerTemplate.hasIndex(fromSource.template)
            for layer in layered ? Array(0..<layerCount) : [0] {
                let sourceName = LayerTemplate.expand(fromSource.template, layer: layer)
                guard let t = lookup(sourceName) else {
                    if !rule.optional { missing.append(sourceName) }
                    continue
                }
                let nativeShape = try Self.nativeShape(of: t, through: fromSource, file: sourcePath)
                used.insert(t.name)
                bound.append(
                    Binding(
                        rule: rule, layer: layered ? layer : nil,
                        input: PlannedInput(
                            source: t, fromSource: fromSource, nativeShape: nativeShape, toTarget: toTarget)))
            }
        }
        guard missing.isEmpty else {
            throw fail(
                .tensorNotFound, missing.first,
                "\(missing.count) tensor(s) the \(table.family) family needs are missing: "
                    + missing.prefix(5).joined(separator: ", "))
        }
        return (bound, used)
    }

    /// 2. Outputs: one per target name; parts of one fused target are merged in part order.
    func fuse(_ bound: [Binding], options: PlanOptions) throws -> (outputs: [PlannedOutput], dropped: [DroppedTensor]) {
        var outputs: [PlannedOutput] = []
        var dropped: [DroppedTensor] = []
        var fused: [String: [(part: Int, native: String, input: PlannedInput, rule: MappingRule)]] = [:]
        var order: [String] = []
        for b in bound {
            let native = b.layer.map { LayerTemplate.expand(b.rule.native, layer: $0) } ?? b.rule.native
            let targetName: String
            if options.targetLayout == .native {
                targetName = native
            } else if let l = b.rule.layouts[options.targetLayout] {
                targetName = LayerTemplate.expand(l.template, layer: b.layer ?? 0)
            } else {
                let reason: DroppedTensor.Reason = options.targetLayout == .gguf ? .unusedByLlamaCpp : .noTargetName
                dropped.append(DroppedTensor(tensor: b.input.source, reason: reason))
                continue
            }
            if fused[targetName] == nil { order.append(targetName) }
            fused[targetName, default: []].append((b.input.toTarget.part?.index ?? 0, native, b.input, b.rule))
        }
        for name in order {
            var parts = fused[name]!.sorted { $0.part < $1.part }
            // Layers that share one source tensor (ALBERT_Unshared read from ALBERT's shared TF
            // release) written back to a shared name: one tensor, not a clash.
            if parts.count > 1,
                parts.allSatisfy({ $0.part == parts[0].part && $0.input.source.name == parts[0].input.source.name })
            {
                parts = [parts[0]]
            }
            let first = parts[0]
            let count = first.input.toTarget.part?.count ?? 1
            guard parts.count == count, parts.map(\.part) == Array(0..<count) else {
                throw fail(
                    .malformed, name,
                    Self.fusionProblem(
                        first.rule, first.input, found: parts.count, expected: count,
                        layout: options.targetLayout))
            }
            let dtype = Self.outputDType(first.input.source.dtype, options.dtype)
            var shape = try Self.targetShape(parts.map(\.input), file: sourcePath, name: name)
            let vocabAxis = first.rule.vocabAxis.map { axis -> Int in
                first.input.toTarget.transpose ? 1 - axis : axis
            }
            let selection = try vocabularySelection(
                options, axis: vocabAxis, shape: &shape, name: name, source: first.input.source)
            outputs.append(
                PlannedOutput(
                    name: name, nativeName: count == 1 ? first.native : nil, dtype: dtype, shape: shape,
                    inputs: parts.map(\.input), vocabAxis: vocabAxis, selection: selection))
        }
        return (outputs, dropped)
    }

    /// Why parts do not fuse into one target tensor.
    static func fusionProblem(_ rule: MappingRule, _ input: PlannedInput, found: Int, expected: Int, layout: Layout)
        -> String
    {
        if LayerTemplate.hasIndex(rule.native) && !LayerTemplate.hasIndex(input.toTarget.template) {
            return
                "the \(layout) layout shares one tensor across layers, "
                + "but the source's layers differ (\(found) to one name)"
        }
        if found == 1 || expected == 1 { return "two source tensors map to this target name" }
        return "fused target needs \(expected) parts, found \(found)"
    }

    /// With `prune`: the rows kept along the vocabulary axis, checked against the tensor (the
    /// shape gets the new vocabulary size).
    func vocabularySelection(
        _ options: PlanOptions, axis: Int?, shape: inout [Int], name: String,
        source: TensorInfo
    ) throws -> VocabularySelection? {
        guard let vocabulary = options.vocabulary, let axis, axis < shape.count else { return nil }
        let rows = shape[axis]
        if let expected = options.vocabularySize, expected != rows {
            throw fail(
                .sizeMismatch, source.name,
                "the vocabulary has \(expected) tokens, this tensor has \(rows) vocabulary rows")
        }
        if let bad = (vocabulary.keep + vocabulary.compound.flatMap { $0 }).first(where: { $0 < 0 || $0 >= rows }) {
            throw fail(.outOfBounds, name, "vocabulary id \(bad) is outside the \(rows) rows of this tensor")
        }
        shape[axis] = vocabulary.newSize
        return vocabulary
    }

    /// 3. Everything else in the source: dropped with a reason, kept (`--allow-unmapped`,
    /// `--keep-optimizer`), or an error; then the tensors generated for the target.
    func account(
        _ tensors: [TensorInfo], used: Set<String>, options: PlanOptions, outputs: inout [PlannedOutput],
        dropped: inout [DroppedTensor]
    ) throws -> [TensorInfo] {
        let identity = LayoutName(template: "")
        let derived = Set(table.derived?[sourceLayout.rawValue] ?? [])
        var unmapped: [TensorInfo] = []
        var unknown: [String] = []
        for t in tensors where !used.contains(t.name) {
            if let reason = dropReason(t, options: options, derived: derived) {
                dropped.append(DroppedTensor(tensor: t, reason: reason))
            } else if options.allowUnmapped || (OptimizerSlots.isSlot(t.name) && options.keepOptimizer)
                || isKeptTaskHead(t, options: options)
            {
                unmapped.append(t)
            } else {
                unknown.append(t.name)
            }
        }
        guard unknown.isEmpty else {
            throw fail(
                .malformed, unknown.first,
                "\(unknown.count) tensor(s) match no \(table.family) rule (\(sourceLayout) names): "
                    + unknown.prefix(5).joined(separator: ", ") + "; --allow-unmapped keeps them under their own names")
        }
        for t in unmapped {
            guard !outputs.contains(where: { $0.name == t.name }) else {
                throw fail(.malformed, t.name, "an unmapped tensor has the name of a mapped output")
            }
            let dtype = Self.outputDType(t.dtype, options.dtype)
            outputs.append(
                PlannedOutput(
                    name: t.name, nativeName: nil, dtype: dtype, shape: t.shape,
                    inputs: [PlannedInput(source: t, fromSource: identity, nativeShape: t.shape, toTarget: identity)],
                    vocabAxis: nil, selection: nil))
        }
        for (name, generator) in options.generated.sorted(by: { $0.key < $1.key }) {
            guard !outputs.contains(where: { $0.name == name }) else { continue }
            outputs.append(
                PlannedOutput(
                    name: name, nativeName: nil, dtype: Self.outputDType(.float32, options.dtype),
                    shape: generator.shape,
                    inputs: [], vocabAxis: nil, selection: nil, generator: generator))
        }
        return unmapped
    }

    /// Why a source tensor no rule reads is dropped, if it is.
    func dropReason(_ t: TensorInfo, options: PlanOptions, derived: Set<String>) -> DroppedTensor.Reason? {
        if t.isBookkeeping { return .bookkeeping }
        if derived.contains(t.name) || (t.groupKey.map(derived.contains) ?? false) { return .derived }
        if OptimizerSlots.isSlot(t.name) { return options.keepOptimizer ? nil : .optimizerSlot }
        guard sourceLayout == .hf, let hub = table.hub else {
            return table.hfTied?[t.name] != nil && sourceLayout == .hf ? .tied : nil
        }
        if table.hfTied?[t.name] != nil { return .tied }
        if hub.isBuffer(t.name) { return .buffer }
        if hub.isTaskHead(t.name), ![.native, .hf].contains(options.targetLayout) { return .taskHead }
        return nil
    }

    /// A task head of an `hf` source, kept under its own name where the target can hold it.
    func isKeptTaskHead(_ t: TensorInfo, options: PlanOptions) -> Bool {
        sourceLayout == .hf && [.native, .hf].contains(options.targetLayout) && (table.hub?.isTaskHead(t.name) ?? false)
    }

    static func outputDType(_ source: DType, _ requested: DType?) -> DType {
        guard let requested, DTypeCast.canCast(source, to: requested) else { return source }
        return requested
    }

    /// The native shape of a source tensor read through `layout` (squeeze, part, transpose).
    static func nativeShape(of t: TensorInfo, through layout: LayoutName, file: String) throws -> [Int] {
        var shape = t.shape
        func bad(_ why: String) -> CkptError {
            CkptError(.sizeMismatch, file: file, tensor: t.name, "shape \(ShapeMath.describe(t.shape)): \(why)")
        }
        if let axis = layout.squeeze {
            guard axis < shape.count, shape[axis] == 1 else { throw bad("expected size 1 on axis \(axis)") }
            shape.remove(at: axis)
        }
        if let p = layout.part {
            guard p.axis < shape.count, shape[p.axis] % p.count == 0 else {
                throw bad("axis \(p.axis) does not split into \(p.count) equal parts")
            }
            shape[p.axis] /= p.count
        }
        if layout.transpose {
            guard shape.count == 2 else { throw bad("expected a matrix to transpose") }
            shape.reverse()
        }
        return shape
    }

    /// The target shape from the native shapes of its parts (transpose, concatenate, unsqueeze).
    static func targetShape(_ parts: [PlannedInput], file: String, name: String) throws -> [Int] {
        let l = parts[0].toTarget
        var shape = parts[0].nativeShape
        if l.transpose {
            guard shape.count == 2 else {
                throw CkptError(
                    .sizeMismatch, file: file, tensor: name,
                    "expected a matrix to transpose, found \(ShapeMath.describe(shape))")
            }
            shape.reverse()
        }
        if let p = l.part {
            guard parts.allSatisfy({ $0.nativeShape == parts[0].nativeShape }), p.axis < shape.count else {
                throw CkptError(.sizeMismatch, file: file, tensor: name, "fused parts differ in shape")
            }
            shape[p.axis] *= p.count
        }
        if let axis = l.squeeze { shape.insert(1, at: min(axis, shape.count)) }
        return shape
    }
}
