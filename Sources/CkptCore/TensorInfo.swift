/// What a source knows of one tensor without reading its data.
public struct TensorInfo: Sendable, Equatable {
    /// The name as the source stores it (TF variable name, Keras weight name, safetensors key...).
    public let name: String
    public let dtype: DType
    /// Row-major dimensions; `[]` for a scalar.
    public let shape: [Int]
    /// Bytes the tensor occupies in the source (for strings: the stored bytes, lengths included).
    public let byteCount: Int
    /// Format bookkeeping rather than model state (TF2's `_CHECKPOINTABLE_OBJECT_GRAPH`).
    public let isBookkeeping: Bool
    /// Where the format groups weights (a Keras layer) and the weight's position in the group:
    /// Keras weight names carry global counters (`dense_7`), so mappings address `LAYER#k`.
    public let group: String?
    public let indexInGroup: Int?

    public init(
        name: String, dtype: DType, shape: [Int], byteCount: Int, isBookkeeping: Bool = false,
        group: String? = nil, indexInGroup: Int? = nil
    ) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteCount = byteCount
        self.isBookkeeping = isBookkeeping
        self.group = group
        self.indexInGroup = indexInGroup
    }

    /// `LAYER#k` for grouped weights, else nil.
    public var groupKey: String? {
        guard let group, let indexInGroup else { return nil }
        return "\(group)#\(indexInGroup)"
    }

    /// Number of elements (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// Element count and byte size of a shape, with every multiplication checked: sizes come from
/// untrusted headers, and an overflow must become an error, never a trap or a wrapped value.
public enum ShapeMath {
    public static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    public static func byteCount(_ shape: [Int], _ dtype: DType) -> Int? {
        guard let n = elementCount(shape), let size = dtype.itemSize else { return nil }
        let (p, o) = n.multipliedReportingOverflow(by: size)
        return o ? nil : p
    }

    public static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
