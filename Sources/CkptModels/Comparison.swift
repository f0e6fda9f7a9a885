import CkptCore

/// Differences between two sets of canonical weights (`ckpt diff`, `ckpt verify`).
public struct WeightComparison: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let maxAbsolute: Float
        public let maxRelative: Float
        /// Equal after rounding `a` to `b`'s dtype (identical when the dtypes agree).
        public let equalAtTargetPrecision: Bool
    }

    public let onlyInA: [String]
    public let onlyInB: [String]
    /// Name, A's dtype and shape, B's.
    public let changed: [(name: String, a: String, b: String)]
    public let compared: [Entry]

    public var identical: Bool {
        onlyInA.isEmpty && onlyInB.isEmpty && changed.isEmpty && compared.allSatisfy { $0.maxAbsolute == 0 }
    }

    public var sameValues: Bool {
        onlyInA.isEmpty && onlyInB.isEmpty && compared.allSatisfy(\.equalAtTargetPrecision)
            && changed.allSatisfy { c in c.a.split(separator: " ").last == c.b.split(separator: " ").last }
    }

    public init(_ a: WeightStore, _ b: WeightStore) {
        onlyInA = a.tensors.keys.filter { b.tensors[$0] == nil }.sorted()
        onlyInB = b.tensors.keys.filter { a.tensors[$0] == nil }.sorted()
        var changed: [(String, String, String)] = []
        var compared: [Entry] = []
        for name in a.tensors.keys.sorted() {
            guard let x = a.tensors[name], let y = b.tensors[name] else { continue }
            if x.dtype != y.dtype || x.shape != y.shape {
                changed.append(
                    (
                        name, "\(x.dtype.rawValue) \(ShapeMath.describe(x.shape))",
                        "\(y.dtype.rawValue) \(ShapeMath.describe(y.shape))"
                    ))
            }
            guard x.shape == y.shape else { continue }
            var maxAbs: Float = 0, maxRel: Float = 0
            var equal = true
            for i in x.values.indices {
                let d = abs(x.values[i] - y.values[i])
                if d.isNaN ? !(x.values[i].isNaN && y.values[i].isNaN) : d > 0 {
                    maxAbs = max(maxAbs, d.isNaN ? .infinity : d)
                    maxRel = max(maxRel, d / max(abs(x.values[i]), Float.leastNormalMagnitude))
                }
                if equal && Self.rounded(x.values[i], to: y.dtype).bitPattern != y.values[i].bitPattern
                    && !(x.values[i].isNaN && y.values[i].isNaN)
                {
                    equal = false
                }
            }
            compared.append(Entry(name: name, maxAbsolute: maxAbs, maxRelative: maxRel, equalAtTargetPrecision: equal))
        }
        self.changed = changed
        self.compared = compared
    }

    /// `v` rounded to `dtype` and widened back (round to nearest even).
    static func rounded(_ v: Float, to dtype: DType) -> Float {
        switch dtype {
        case .float16: return Float(Float16(v))
        case .bfloat16: return HalfPrecision.bfloat16(DTypeCast.bfloat16(v))
        default: return v
        }
    }
}

/// Random inputs valid for a family, for `verify`: ids in 1..<vocab (0 is padding), a few
/// segments, a length within the position table; deterministic for a seed.
public enum RandomInputs {
    public static func requests(_ model: ReferenceModel, count: Int, seed: UInt64 = 0x5eed) -> [ForwardRequest] {
        var rng = SplitMix64(state: seed)
        var out: [ForwardRequest] = []
        for _ in 0..<count {
            let length = min(model.maxPositions ?? 16, 4 + Int(rng.next() % 9))
            let tokens = (0..<length).map { _ in 1 + Int(rng.next() % UInt64(model.vocabSize - 1)) }
            let split = length / 2
            let segments = (0..<length).map { $0 < split ? 0 : 1 }
            switch model.spec.kind {
            case .encoder:
                let heads: Set<Head> = Set(model.availableHeads)
                out.append(
                    ForwardRequest(
                        tokens: tokens, segments: model.weights.has("embeddings.segment.weight") ? segments : nil,
                        heads: heads))
            case .decoder:
                out.append(
                    ForwardRequest(
                        tokens: tokens, segments: model.weights.has("embeddings.segment.weight") ? segments : nil))
            case .encoderDecoder:
                let dec = (0..<max(2, length / 2)).map { _ in 1 + Int(rng.next() % UInt64(model.vocabSize - 1)) }
                out.append(ForwardRequest(tokens: tokens, decoderTokens: dec))
            }
        }
        return out
    }

    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }
}

extension ReferenceModel {
    /// The heads this checkpoint has weights for.
    public var availableHeads: [Head] {
        var h: [Head] = []
        if weights.has("pooler.weight") { h.append(.pool) }
        if weights.has("pooler.weight") && weights.has("heads.nsp.weight") { h.append(.nsp) }
        if weights.has("heads.mlm.dense.weight") { h.append(.mlm) }
        if weights.has("heads.discriminator.dense.weight") { h.append(.discriminator) }
        return h
    }

    public var weightStore: WeightStore { weights }
}
