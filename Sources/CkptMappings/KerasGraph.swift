import CkptCore

/// The shape of a family's bert4keras Keras model, as data: which layers it calls, on what, in
/// which sections (embeddings, one section repeated per layer, heads). Keras' `load_weights`
/// matches an HDF5 file's layers to the model's by position in `model.layers`, and that order
/// comes from the graph (keras/src/engine/functional.py `_map_graph_network`: layers by depth
/// from the outputs, ties by the order a depth-first walk from the outputs meets them), so the
/// Keras writer rebuilds the graph for the checkpoint's layer count and heads and sorts it the
/// same way.
///
/// A call is `[layer, [inputs], output, condition?]`: inputs and output are variable names (an
/// input ending in `?` is left out when the variable was never set); a call whose condition fails
/// passes its first input through (a Dropout at rate 0 is not applied). Conditions, joined by
/// `&`, negated by `!`: `has:LAYER` (the checkpoint holds that layer's weights), `dropout` (the
/// config's dropout rate is above 0), `first` (layer index 0 of a repeated section). A call with
/// no inputs is a model input.
public struct KerasGraph: Sendable, Decodable {
    public struct Call: Sendable, Decodable {
        public let layer: String
        public let inputs: [String]
        public let output: String
        public let condition: String?

        public init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            layer = try c.decode(String.self)
            inputs = try c.decode([String].self)
            output = try c.decode(String.self)
            condition = c.isAtEnd ? nil : try c.decode(String.self)
        }
    }

    public struct Section: Sendable, Decodable {
        /// Repeated for layers 0..<n, `{i}` in layer names expanded.
        public let repeated: Bool
        public let calls: [Call]

        enum CodingKeys: String, CodingKey { case repeated = "repeat", calls }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            repeated = try c.decodeIfPresent(Bool.self, forKey: .repeated) ?? false
            calls = try c.decode([Call].self, forKey: .calls)
        }
    }

    public let sections: [Section]
    /// The model's outputs: `[variable, condition?]`, those whose condition holds, in order.
    public let outputs: [[String]]
    /// The output when no listed one applies (bert4keras returns the encoder output).
    public let fallback: String?

    /// What decides the conditions.
    public struct Facts: Sendable {
        public let layersWithWeights: Set<String>
        public let dropout: Bool
        public let layerCount: Int

        public init(layersWithWeights: Set<String>, dropout: Bool, layerCount: Int) {
            self.layersWithWeights = layersWithWeights
            self.dropout = dropout
            self.layerCount = layerCount
        }
    }

    /// Every layer of the model, in Keras' `model.layers` order.
    public func layerOrder(_ facts: Facts) throws -> [String] {
        let graph = try build(facts)
        return Self.kerasOrder(graph.layers, parents: graph.parents, nodeLayer: graph.nodeLayer, outputs: graph.outputs)
    }

    // MARK: - Building the node graph

    struct Built {
        var layers: [String] = []  // layer names, by layer id
        var nodeLayer: [Int] = []  // node -> layer id
        var parents: [[Int]] = []  // node -> parent nodes, in input order
        var outputs: [Int] = []
    }

    /// Whether a call's condition holds: `has:LAYER`, `dropout`, `first`, `!` negates, `&` joins.
    static func holds(_ condition: String?, first: Bool, facts: Facts) -> Bool {
        guard let condition else { return true }
        return condition.split(separator: "&").allSatisfy { term in
            let negated = term.hasPrefix("!")
            let t = negated ? term.dropFirst() : term[...]
            let value: Bool
            if t.hasPrefix("has:") {
                value = facts.layersWithWeights.contains(String(t.dropFirst(4)))
            } else if t == "dropout" {
                value = facts.dropout
            } else if t == "first" {
                value = first
            } else {
                value = false
            }
            return value != negated
        }
    }

    func build(_ facts: Facts) throws -> Built {
        var g = Built()
        var layerIDs: [String: Int] = [:]
        var vars: [String: Int] = [:]
        let holds = { (condition: String?, first: Bool) in Self.holds(condition, first: first, facts: facts) }
        for section in sections {
            for i in section.repeated ? Array(0..<facts.layerCount) : [0] {
                for call in section.calls {
                    // `x?`: the variable when it is set, else no input.
                    let inputs = call.inputs.compactMap { name -> String? in
                        guard name.hasSuffix("?") else { return name }
                        let optional = String(name.dropLast())
                        return vars[optional] != nil ? optional : nil
                    }
                    guard holds(call.condition, !section.repeated || i == 0) else {
                        if let pass = inputs.first, let node = vars[pass] { vars[call.output] = node }
                        continue
                    }
                    let parents = try inputs.map { name -> Int in
                        guard let node = vars[name] else {
                            throw CkptError(
                                .malformed, file: "keras_graph", tensor: call.layer, "input '\(name)' is not set")
                        }
                        return node
                    }
                    let name = section.repeated ? LayerTemplate.expand(call.layer, layer: i) : call.layer
                    let layer: Int
                    if let id = layerIDs[name] {
                        layer = id
                    } else {
                        layer = g.layers.count
                        layerIDs[name] = layer
                        g.layers.append(name)
                    }
                    g.nodeLayer.append(layer)
                    g.parents.append(parents)
                    vars[call.output] = g.nodeLayer.count - 1
                }
            }
        }
        for o in outputs where !o.isEmpty && holds(o.count > 1 ? o[1] : nil, false) {
            guard let node = vars[o[0]] else {
                throw CkptError(.malformed, file: "keras_graph", "output '\(o[0])' is not set")
            }
            g.outputs.append(node)
        }
        if g.outputs.isEmpty, let f = fallback {
            guard let node = vars[f] else {
                throw CkptError(.malformed, file: "keras_graph", "output '\(f)' is not set")
            }
            g.outputs.append(node)
        }
        return g
    }

    // MARK: - Keras' order

    /// functional.py `_build_map` + `_map_graph_network`: a depth-first walk from the outputs
    /// numbers layers as it first meets them and lists nodes after their inputs; walking that list
    /// backwards, each node's depth is the largest of its consumers' depths + 1 (and at least its
    /// layer's depth so far), a layer's depth is its deepest node's; layers sort by depth, deepest
    /// first, ties by first meeting.
    static func kerasOrder(_ layers: [String], parents: [[Int]], nodeLayer: [Int], outputs: [Int]) -> [String] {
        var layerIndex: [Int: Int] = [:]
        var finished = Set<Int>()
        var postorder: [Int] = []
        func visit(_ node: Int) {
            if finished.contains(node) { return }
            if layerIndex[nodeLayer[node]] == nil { layerIndex[nodeLayer[node]] = layerIndex.count }
            for p in parents[node] { visit(p) }
            finished.insert(node)
            postorder.append(node)
        }
        for o in outputs { visit(o) }
        var nodeDepth: [Int: Int] = [:]
        var layerDepth: [Int: Int] = [:]
        for node in postorder.reversed() {
            let depth = max(nodeDepth[node] ?? 0, layerDepth[nodeLayer[node]] ?? 0)
            layerDepth[nodeLayer[node]] = depth
            nodeDepth[node] = depth
            for p in parents[node] { nodeDepth[p] = max(depth + 1, nodeDepth[p] ?? 0) }
        }
        return layerDepth.keys.sorted { a, b in
            layerDepth[a]! != layerDepth[b]! ? layerDepth[a]! > layerDepth[b]! : layerIndex[a]! < layerIndex[b]!
        }.map { layers[$0] }
    }
}
