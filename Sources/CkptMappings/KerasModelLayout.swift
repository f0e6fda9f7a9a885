import CkptCore
import CkptFormats

/// The layers of the Keras weights file a plan becomes: the family's graph sorted as Keras sorts
/// `model.layers`, each layer with its planned weights (`LAYER#k`, in k order) under readable
/// Keras weight names.
public enum KerasModelLayout {
    /// bert4keras' build_transformer_model takes `dropout_rate` when the config has it (T5), else
    /// `hidden_dropout_prob`, and adds no Dropout layers at rate 0 (or null), which changes the
    /// graph and, for T5, the order of layers with weights.
    public static func dropout(in config: ModelConfig?) -> Bool {
        guard let config else { return false }
        let key = config.has("dropout_rate") ? "dropout_rate" : "hidden_dropout_prob"
        if case .number(let d)? = config.values[key] { return d > 0 }
        return false
    }

    public static func layers(for plan: ConversionPlan, table: MappingTable, config: ModelConfig?, file: String) throws
        -> [KerasLayerEntry]
    {
        guard let graph = table.kerasGraph else {
            throw CkptError(.unsupported, file: file, "the \(table.family) family has no Keras layout")
        }
        var byLayer: [String: [(index: Int, output: PlannedOutput)]] = [:]
        for o in plan.outputs {
            guard let (layer, k) = split(o.name) else {
                throw CkptError(.malformed, file: file, tensor: o.name, "not a Keras LAYER#k name")
            }
            byLayer[layer, default: []].append((k, o))
        }
        // Every weight the table gives a layer: a layer is whole or absent (load_weights would
        // shift every later weight onto the wrong variable otherwise).
        var expected: [String: Int] = [:]
        let kerasNames =
            table.rules.compactMap { $0.layouts[.keras]?.template }
            + (table.generated?[Layout.keras.rawValue] ?? []).map(\.name)
        for template in kerasNames {
            for i in LayerTemplate.hasIndex(template) ? Array(0..<plan.layerCount) : [0] {
                guard let (layer, k) = split(LayerTemplate.expand(template, layer: i)) else { continue }
                expected[layer] = max(expected[layer] ?? 0, k + 1)
            }
        }
        let facts = KerasGraph.Facts(
            layersWithWeights: Set(byLayer.keys), dropout: dropout(in: config), layerCount: plan.layerCount)
        let order = try graph.layerOrder(facts)
        if let stray = byLayer.keys.sorted().first(where: { !order.contains($0) }) {
            throw CkptError(.malformed, file: file, tensor: stray, "layer is not in the \(table.family) Keras model")
        }
        return try order.map { layer in
            let weights = (byLayer[layer] ?? []).sorted { $0.index < $1.index }
            let count = expected[layer] ?? weights.count
            guard weights.isEmpty || weights.map(\.index) == Array(0..<count) else {
                throw CkptError(
                    .tensorNotFound, file: file, tensor: layer,
                    "the Keras layer needs weights 0..<\(count), the checkpoint gives \(weights.map(\.index))")
            }
            var used = Set<String>()
            let entries = weights.map { w -> KerasWeightEntry in
                var name = "\(layer)/\(weightName(w.output))"
                if used.contains(name) { name = "\(layer)/weight_\(w.index):0" }
                used.insert(name)
                return KerasWeightEntry(name: name, dtype: w.output.dtype, shape: w.output.shape, key: w.output.name)
            }
            return KerasLayerEntry(name: layer, weights: entries)
        }
    }

    /// `LAYER#k` (TensorInfo.groupKey's form) as the layer and the weight's index in it.
    static func split(_ name: String) -> (layer: String, index: Int)? {
        guard let hash = name.lastIndex(of: "#"), let k = Int(name[name.index(after: hash)...]) else { return nil }
        return (String(name[..<hash]), k)
    }

    /// A Keras-style weight name from the canonical one: `query/kernel:0`, `gamma:0`,
    /// `embeddings:0` (load_weights matches by position; the names are for people).
    static func weightName(_ o: PlannedOutput) -> String {
        guard let native = o.nativeName else { return o.generator != nil ? "embeddings:0" : "weight:0" }
        let parts = native.split(separator: ".").map(String.init)
        let leaf = parts.last ?? "weight"
        let parent = parts.count > 1 ? parts[parts.count - 2] : ""
        let kind: String
        if parent.hasPrefix("norm") || parent.hasSuffix("norm") {
            kind = leaf == "bias" ? "beta" : "gamma"
        } else if parts.first == "embeddings" && parent != "projection" && leaf == "weight" {
            kind = "embeddings"
        } else if leaf == "weight" {
            kind = o.shape.count == 1 ? "gamma" : "kernel"
        } else {
            kind = leaf
        }
        let sub =
            ["attention", "ffn", "cross_attention"].contains(parts.count > 2 ? parts[parts.count - 3] : "")
            ? parent + "/" : ""
        return sub + kind + ":0"
    }
}
