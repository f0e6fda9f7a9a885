import CkptCore

/// The allow-list of the restricted unpickler: the only Python names a state dict's pickle may
/// mention, and what ckpt does in their place. Nothing here runs Python; a name outside the list
/// is refused, naming it.
enum TorchPickleGlobals {
    /// Storage classes (`torch.FloatStorage`...) as persistent ids name them, by element type.
    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16,
        "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16,
        "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
        "ComplexFloatStorage": .complex64, "ComplexDoubleStorage": .complex128,
        "Float8_e4m3fnStorage": .float8_e4m3fn, "Float8_e5m2Storage": .float8_e5m2,
        "UInt16Storage": .uint16, "UInt32Storage": .uint32, "UInt64Storage": .uint64,
    ]

    /// Functions ckpt interprets when a REDUCE calls them.
    static let callables: Set<String> = [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
    ]

    /// The value a GLOBAL pushes, or the refusal.
    static func admit(module: String, name: String, file: String, member: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        if callables.contains(full) || (module == "torch" && storageTypes[name] != nil) {
            return .global(module: module, name: name)
        }
        throw CkptError(
            .unsupported, file: file, tensor: member,
            "the pickle names \(full), which a state dict never uses: refused (ckpt never runs pickled code)")
    }

    /// What REDUCE of an admitted callable gives.
    static func call(
        _ callable: PickleValue, _ args: PickleValue, heap: inout PickleHeap, file: String, member: String
    ) throws -> PickleValue {
        func bad(_ why: String) -> CkptError { CkptError(.malformed, file: file, tensor: member, "pickle: \(why)") }
        guard case .global(let module, let name) = callable else { throw bad("REDUCE calls a \(callable.kind)") }
        guard let a = heap.items(args) else { throw bad("REDUCE arguments are a \(args.kind), not a tuple") }
        switch "\(module).\(name)" {
        case "collections.OrderedDict":
            heap.dicts.append([])
            return .dict(heap.dicts.count - 1)
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2":
            return .tensor(try tensor(a, heap: heap, bad: bad))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard case .tensor(let t)? = a.first else { throw bad("_rebuild_parameter of no tensor") }
            return .tensor(t)
        default:
            throw bad("\(module).\(name) is not callable")
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`: the view, checked to lie
    /// inside its storage.
    static func tensor(_ a: [PickleValue], heap: PickleHeap, bad: (String) -> CkptError) throws -> TorchTensorRef {
        guard a.count >= 4, case .storage(let storage) = a[0], let offset = a[1].asInt,
            let size = heap.items(a[2])?.map(\.asInt), let stride = heap.items(a[3])?.map(\.asInt)
        else { throw bad("_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)") }
        let shape = size.compactMap { $0 }, strides = stride.compactMap { $0 }
        guard shape.count == size.count, strides.count == stride.count, shape.count == strides.count,
            shape.count <= 64, offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 })
        else { throw bad("tensor size \(size) and stride \(stride) do not describe a view") }
        guard let last = TorchView.lastElement(shape: shape, strides: strides, offset: offset) else {
            throw bad("tensor size \(shape) overflows")
        }
        // An empty tensor touches no element; any other must end inside its storage.
        if ShapeMath.elementCount(shape) != 0, last >= storage.elementCount {
            throw bad(
                "tensor of size \(shape), stride \(strides), offset \(offset) reaches element \(last) of storage "
                    + "'\(storage.key)', which holds \(storage.elementCount)")
        }
        return TorchTensorRef(storage: storage, offset: offset, shape: shape, strides: strides)
    }

    /// BINPERSID: `('storage', torch.FloatStorage, key, location, numel[, view_metadata])`.
    static func persistent(_ pid: PickleValue, heap: PickleHeap, file: String, member: String) throws -> PickleValue {
        guard let t = heap.items(pid), t.count >= 5, t[0].asString == "storage",
            case .global("torch", let typeName) = t[1], let dtype = storageTypes[typeName],
            let key = t[2].asString ?? t[2].asInt.map(String.init), let count = t[4].asInt, count >= 0
        else {
            throw CkptError(
                .malformed, file: file, tensor: member,
                "pickle: a persistent id that is not ('storage', torch.<Type>Storage, key, location, size)")
        }
        guard ShapeMath.byteCount([count], dtype) != nil else {
            throw CkptError(.malformed, file: file, tensor: member, "pickle: storage '\(key)' size overflows")
        }
        return .storage(TorchStorageRef(key: key, dtype: dtype, elementCount: count))
    }
}

/// Index arithmetic of strided views.
enum TorchView {
    /// The storage index of the view's last element (offset + Σ (size−1)·stride); nil on overflow.
    static func lastElement(shape: [Int], strides: [Int], offset: Int) -> Int? {
        var last = offset
        for (n, s) in zip(shape, strides) where n > 0 {
            let (p, o1) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(p)
            if o1 || o2 { return nil }
            last = sum
        }
        return ShapeMath.elementCount(shape) == nil ? nil : last
    }

    /// Whether the view is the C-order layout of its shape (dimensions of size 1 may have any stride).
    static func isContiguous(shape: [Int], strides: [Int]) -> Bool {
        var expected = 1
        for (n, s) in zip(shape, strides).reversed() {
            if n != 1 && s != expected { return false }
            expected *= n
        }
        return true
    }
}
