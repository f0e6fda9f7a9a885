import CkptCore

/// A value of the small part of Python's pickle language that a torch state dict uses. Tuples,
/// lists and dicts live in a `PickleHeap` and are named by index, as Python's objects are by
/// reference: filling a dict the memo also holds is one in-place append, and no value nests
/// another directly (so neither a hostile stream's nesting nor its cycles reach Swift's stack).
enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(Int)
    case list(Int)
    case dict(Int)
    /// A `module.name` the allow-list admits, not called yet.
    case global(module: String, name: String)
    /// A torch storage named by a persistent id.
    case storage(TorchStorageRef)
    /// A tensor rebuilt by `torch._utils._rebuild_tensor_v2` (or `_rebuild_parameter` of one).
    case tensor(TorchTensorRef)

    /// What the value is, for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let m, let n): return "\(m).\(n)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    var asInt: Int? {
        switch self {
        case .int(let v): return v
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    var asString: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b): return String(validating: b, as: UTF8.self)
        default: return nil
        }
    }
}

/// The containers of one pickle stream.
struct PickleHeap: Sendable {
    var tuples: [[PickleValue]] = []
    var lists: [[PickleValue]] = []
    var dicts: [[(PickleValue, PickleValue)]] = []

    mutating func tuple(_ items: [PickleValue]) -> PickleValue {
        tuples.append(items)
        return .tuple(tuples.count - 1)
    }

    /// The items of a tuple or list.
    func items(_ v: PickleValue) -> [PickleValue]? {
        switch v {
        case .tuple(let i): return tuples[i]
        case .list(let i): return lists[i]
        default: return nil
        }
    }

    func pairs(_ v: PickleValue) -> [(PickleValue, PickleValue)]? {
        guard case .dict(let i) = v else { return nil }
        return dicts[i]
    }
}

/// A storage as a persistent id names it: `('storage', torch.FloatStorage, key, location, numel)`.
struct TorchStorageRef: Sendable, Equatable {
    let key: String
    let dtype: DType
    /// Elements of the storage, as the pickle says (checked against the bytes present).
    let elementCount: Int
}

/// A tensor's view of a storage.
struct TorchTensorRef: Sendable, Equatable {
    let storage: TorchStorageRef
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}
