import CkptCore

/// The weights of a model by canonical (native) name, as float32. Models read only from here:
/// they know nothing of files or formats.
public struct WeightStore: Sendable {
    public struct Tensor: Sendable {
        public let shape: [Int]
        public let values: FloatArray
        /// The dtype stored in the checkpoint (values are widened to float32).
        public let dtype: DType

        public init(shape: [Int], values: FloatArray, dtype: DType = .float32) {
            self.shape = shape
            self.values = values
            self.dtype = dtype
        }

        public init(shape: [Int], values: [Float], dtype: DType = .float32) {
            self.init(shape: shape, values: FloatArray(values), dtype: dtype)
        }
    }

    public let tensors: [String: Tensor]
    /// For error messages: where the weights came from.
    public let origin: String
    /// Every weight the checkpoint holds, loaded or not (a forward pass loads only what its
    /// outputs need: no MLM head for the hidden states).
    public let available: Set<String>

    public init(tensors: [String: Tensor], origin: String, available: Set<String>? = nil) {
        self.tensors = tensors
        self.origin = origin
        self.available = available ?? Set(tensors.keys)
    }

    public func has(_ name: String) -> Bool { available.contains(name) }

    func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else {
            throw CkptError(.tensorNotFound, file: origin, tensor: name, "the forward pass needs this weight")
        }
        return t
    }

    /// A 2-D weight, `[in, out]` for kernels.
    func matrix(_ name: String, rows: Int? = nil, cols: Int? = nil) throws -> Matrix {
        let t = try tensor(name)
        guard t.shape.count == 2, rows.map({ $0 == t.shape[0] }) ?? true, cols.map({ $0 == t.shape[1] }) ?? true else {
            throw CkptError(
                .sizeMismatch, file: origin, tensor: name,
                "shape \(ShapeMath.describe(t.shape)), expected "
                    + "[\(rows.map(String.init) ?? "*"), \(cols.map(String.init) ?? "*")]"
            )
        }
        return Matrix(rows: t.shape[0], cols: t.shape[1], data: t.values)
    }

    func vector(_ name: String, count: Int? = nil) throws -> [Float] {
        let t = try tensor(name)
        guard t.shape.count == 1, count.map({ $0 == t.shape[0] }) ?? true else {
            throw CkptError(
                .sizeMismatch, file: origin, tensor: name,
                "shape \(ShapeMath.describe(t.shape)), expected [\(count.map(String.init) ?? "*")]")
        }
        return t.values.array
    }

    func optionalVector(_ name: String, count: Int? = nil) throws -> [Float]? {
        has(name) ? try vector(name, count: count) : nil
    }
}
