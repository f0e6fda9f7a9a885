import CkptCore

/// One tensor as a GGUF header describes it: dimensions in ggml order (`ne[0]` varies fastest),
/// the element encoding and the offset from the start of the data section.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let dimensions: [Int]
    public let type: GGMLType
    public let offset: Int
    public let byteCount: Int

    /// Row-major (NumPy) shape: the dimensions reversed.
    public var shape: [Int] { dimensions.reversed() }
}

/// The parsed front of a GGUF file: version, metadata in file order, tensor table, where the
/// data starts. Every count, length and offset is checked against the file before use.
public struct GGUFHeader: Sendable {
    public let version: UInt32
    public let metadata: [(key: String, value: GGUFValue)]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    public let dataStart: Int

    public func value(_ key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

    /// Nested arrays deeper than this are refused (llama.cpp reads none at all).
    static let maxArrayDepth = 3

    public init(_ bytes: UnsafeRawBufferPointer, path: String) throws {
        var r = ByteReader(bytes)
        func bad(_ kind: CkptError.Kind, _ why: String, tensor: String? = nil) -> CkptError {
            CkptError(kind, file: path, tensor: tensor, why)
        }
        guard let magic = r.bytes(4), Array(magic) == GGUFFormat.magic else {
            throw bad(.badMagic, "does not start with \"GGUF\"")
        }
        guard let version = r.uint32LE(), let nTensors = r.uint64LE(), let nKV = r.uint64LE() else {
            throw bad(.truncated, "ends inside the GGUF header")
        }
        guard version == 2 || version == 3 else {
            throw bad(.unsupported, "GGUF version \(version); ckpt reads versions 2 and 3")
        }
        // Each entry takes at least 12 (metadata) or 24 (tensor) bytes: larger counts are lies.
        guard nKV <= UInt64(r.remaining / 12), nTensors <= UInt64(r.remaining / 24) else {
            throw bad(.malformed, "declares \(nKV) metadata entries and \(nTensors) tensors, more than the file holds")
        }
        var metadata: [(key: String, value: GGUFValue)] = []
        var keys = Set<String>()
        for _ in 0..<Int(nKV) {
            let key = try Self.string(&r, path: path, what: "a metadata key")
            guard keys.insert(key).inserted else { throw bad(.malformed, "metadata key '\(key)' appears twice") }
            guard let code = r.uint32LE() else { throw bad(.truncated, "ends inside metadata '\(key)'") }
            metadata.append((key, try Self.value(&r, code: code, depth: 0, key: key, path: path)))
        }
        self.version = version
        self.metadata = metadata
        alignment = try Self.alignment(metadata.first { $0.key == GGUFFormat.alignmentKey }?.value, path: path)
        var infos: [GGUFTensorInfo] = []
        for _ in 0..<Int(nTensors) { infos.append(try Self.tensorInfo(&r, path: path)) }
        dataStart = (r.offset + alignment - 1) / alignment * alignment
        try Self.checkLayout(infos, dataLength: bytes.count - dataStart, alignment: alignment, path: path)
        tensors = infos
    }

    static func alignment(_ value: GGUFValue?, path: String) throws -> Int {
        guard let value else { return GGUFFormat.defaultAlignment }
        guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
            throw CkptError(
                .malformed, file: path, "general.alignment must be a UINT32 power of two, is \(value.summary)")
        }
        return Int(a)
    }

    static func string(_ r: inout ByteReader, path: String, what: String) throws -> String {
        guard let n = r.uint64LE(), n <= UInt64(r.remaining), let b = r.bytes(Int(n)) else {
            throw CkptError(.truncated, file: path, "ends inside \(what)")
        }
        guard let s = String(validating: b, as: UTF8.self) else {
            throw CkptError(.invalidName, file: path, "\(what) is not valid UTF-8")
        }
        return s
    }

    static func value(_ r: inout ByteReader, code: UInt32, depth: Int, key: String, path: String) throws -> GGUFValue {
        func truncated() -> CkptError { CkptError(.truncated, file: path, "ends inside metadata '\(key)'") }
        guard let type = GGUFValueType(rawValue: code) else {
            throw CkptError(.malformed, file: path, "metadata '\(key)' has unknown value type \(code)")
        }
        switch type {
        case .string:
            guard let n = r.uint64LE(), n <= UInt64(r.remaining), let b = r.bytes(Int(n)) else { throw truncated() }
            return .string(Array(b))
        case .array:
            guard depth < maxArrayDepth else {
                throw CkptError(.malformed, file: path, "metadata '\(key)' nests arrays deeper than \(maxArrayDepth)")
            }
            guard let itemCode = r.uint32LE(), let n = r.uint64LE() else { throw truncated() }
            let itemType = GGUFValueType(rawValue: itemCode)
            // A string or array item takes at least 8 bytes, a scalar its size: no count may claim more.
            guard let itemType, n <= UInt64(r.remaining / (itemType.scalarSize ?? 8)) else {
                throw CkptError(
                    .malformed, file: path,
                    "metadata '\(key)' declares \(n) items of type \(itemCode), more than the file holds")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(n))
            for _ in 0..<Int(n) { items.append(try value(&r, code: itemCode, depth: depth + 1, key: key, path: path)) }
            return .array(itemType, items)
        default:
            guard let b = r.bytes(type.scalarSize!) else { throw truncated() }
            return scalar(b, type)
        }
    }

    static func scalar(_ b: UnsafeRawBufferPointer, _ type: GGUFValueType) -> GGUFValue {
        func load<T: FixedWidthInteger>(_: T.Type) -> T { T(littleEndian: b.loadUnaligned(as: T.self)) }
        switch type {
        case .uint8: return .uint8(b[0])
        case .int8: return .int8(Int8(bitPattern: b[0]))
        case .bool: return .bool(b[0] != 0)
        case .uint16: return .uint16(load(UInt16.self))
        case .int16: return .int16(load(Int16.self))
        case .uint32: return .uint32(load(UInt32.self))
        case .int32: return .int32(load(Int32.self))
        case .float32: return .float32(Float(bitPattern: load(UInt32.self)))
        case .uint64: return .uint64(load(UInt64.self))
        case .int64: return .int64(load(Int64.self))
        case .float64: return .float64(Double(bitPattern: load(UInt64.self)))
        case .string, .array: preconditionFailure("not a scalar")
        }
    }

    static func tensorInfo(_ r: inout ByteReader, path: String) throws -> GGUFTensorInfo {
        let name = try string(&r, path: path, what: "a tensor name")
        func bad(_ kind: CkptError.Kind, _ why: String) -> CkptError { CkptError(kind, file: path, tensor: name, why) }
        guard let nd = r.uint32LE() else { throw bad(.truncated, "ends inside the tensor's entry") }
        guard nd <= 4 else { throw bad(.malformed, "has \(nd) dimensions; GGML_MAX_DIMS is 4") }
        var dims: [Int] = []
        for _ in 0..<nd {
            guard let d = r.uint64LE() else { throw bad(.truncated, "ends inside the tensor's entry") }
            guard d <= UInt64(Int32.max) else { throw bad(.malformed, "dimension \(d) is out of range") }
            dims.append(Int(d))
        }
        guard let code = r.uint32LE(), let offset = r.uint64LE() else {
            throw bad(.truncated, "ends inside the tensor's entry")
        }
        let type = GGMLType(rawValue: code)
        guard type.isKnown else { throw bad(.unknownDType, "unknown ggml type \(code)") }
        guard let n = ShapeMath.elementCount(dims), dims.first.map({ $0 % type.blockSize == 0 }) ?? true,
            let bytes = type.byteCount(elements: n)
        else {
            throw bad(.sizeMismatch, "\(type) needs rows of whole \(type.blockSize)-element blocks, ne is \(dims)")
        }
        guard offset <= UInt64(Int.max) else { throw bad(.outOfBounds, "data offset \(offset) is out of range") }
        return GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: Int(offset), byteCount: bytes)
    }

    /// Offsets aligned, in the data section, not overlapping; names unique.
    static func checkLayout(_ infos: [GGUFTensorInfo], dataLength: Int, alignment: Int, path: String) throws {
        var names = Set<String>()
        var end = 0
        for t in infos.sorted(by: { $0.offset < $1.offset }) {
            func bad(_ kind: CkptError.Kind, _ why: String) -> CkptError {
                CkptError(kind, file: path, tensor: t.name, why)
            }
            guard names.insert(t.name).inserted else { throw bad(.malformed, "the name appears twice") }
            guard t.offset % alignment == 0 else {
                throw bad(.malformed, "data offset \(t.offset) is not \(alignment)-aligned")
            }
            guard t.offset >= end else { throw bad(.outOfBounds, "data at \(t.offset) overlaps the tensor before") }
            let (stop, o) = t.offset.addingReportingOverflow(t.byteCount)
            guard !o, stop <= max(0, dataLength) else {
                throw bad(.truncated, "data [\(t.offset), +\(t.byteCount)) runs past the end of the file")
            }
            end = stop
        }
    }
}
