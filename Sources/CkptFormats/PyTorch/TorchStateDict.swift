import CkptCore

/// The tensors of an unpickled torch checkpoint: a dict of tensors (`state_dict()`), or dicts of
/// them nested under string keys (`{"model": state_dict, "epoch": 3}`), named with `.`-joined keys
/// as the nesting gives them. Entries that are not tensors (an epoch, a config) are counted, not listed.
struct TorchStateDict {
    private(set) var tensors: [(name: String, ref: TorchTensorRef)] = []
    private(set) var skipped = 0

    /// Nested dicts beyond this depth are refused (a cycle through the memo ends here too).
    static let maxDepth = 16

    init(_ root: PickleValue, heap: PickleHeap, file: String, member: String) throws {
        guard heap.pairs(root) != nil else {
            throw CkptError(
                .unsupported, file: file, tensor: member,
                "the pickle holds a \(root.kind), not a state dict (a dict of tensors)")
        }
        try collect(root, prefix: "", depth: 0, heap: heap, file: file, member: member)
        var seen = Set<String>()
        for t in tensors where !seen.insert(t.name).inserted {
            throw CkptError(.malformed, file: file, tensor: t.name, "the state dict names this tensor twice")
        }
    }

    private mutating func collect(
        _ value: PickleValue, prefix: String, depth: Int, heap: PickleHeap, file: String, member: String
    ) throws {
        guard depth <= Self.maxDepth else {
            throw CkptError(.malformed, file: file, tensor: member, "dicts nested deeper than \(Self.maxDepth)")
        }
        for (key, item) in heap.pairs(value) ?? [] {
            guard let k = key.asString ?? key.asInt.map(String.init) else {
                skipped += 1
                continue
            }
            let name = prefix.isEmpty ? k : "\(prefix).\(k)"
            switch item {
            case .tensor(let ref): tensors.append((name, ref))
            case .dict: try collect(item, prefix: name, depth: depth + 1, heap: heap, file: file, member: member)
            default: skipped += 1
            }
        }
    }

    /// The storages the tensors use, by key; one key must always name one element type.
    func storages(file: String) throws -> [String: TorchStorageRef] {
        var byKey: [String: TorchStorageRef] = [:]
        for t in tensors {
            if let other = byKey[t.ref.storage.key], other != t.ref.storage {
                throw CkptError(
                    .malformed, file: file, tensor: t.name,
                    "storage '\(t.ref.storage.key)' is named with two types or sizes")
            }
            byKey[t.ref.storage.key] = t.ref.storage
        }
        return byKey
    }

    /// Names whose tensor is the very view of an earlier name (a tied weight stored twice):
    /// alias to the first name.
    var aliases: [String: String] {
        var first: [String: String] = [:]
        var result: [String: String] = [:]
        for t in tensors {
            let key = "\(t.ref.storage.key)|\(t.ref.offset)|\(t.ref.shape)|\(t.ref.strides)"
            if let owner = first[key] { result[t.name] = owner } else { first[key] = t.name }
        }
        return result
    }
}
