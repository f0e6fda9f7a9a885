import CkptCore

/// The two container formats of `torch.save`: where the pickle is and where each storage's
/// bytes are.
struct TorchFileLayout {
    let stateDict: TorchStateDict
    let storages: [String: TorchReader.StorageBytes]

    /// Since torch 1.6: a zip (stored members) of `<name>/data.pkl`, `<name>/byteorder` and one
    /// `<name>/data/<key>` per storage; `<name>` is the file's stem when it was saved.
    static func zip(_ file: MappedFile) throws -> TorchFileLayout {
        let dir = try ZipDirectory(file: file)
        guard let pkl = dir.members.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
            throw CkptError(.unknownFormat, file: file.path, "a zip archive without data.pkl is not a torch checkpoint")
        }
        let root = String(pkl.name.dropLast("data.pkl".count))
        if let order = dir.members.first(where: { $0.name == root + "byteorder" }) {
            let text = String(decoding: try stored(order, file), as: UTF8.self)
            guard text == "little" else {
                throw CkptError(.unsupported, file: file.path, tensor: order.name, "byte order '\(text)' (only little)")
            }
        }
        let pickle = try stored(pkl, file)
        var unpickler = RestrictedUnpickler(pickle, file: file.path, member: pkl.name)
        let value = try unpickler.load()
        let dict = try TorchStateDict(value, heap: unpickler.heap, file: file.path, member: pkl.name)
        var storages: [String: TorchReader.StorageBytes] = [:]
        let members = Dictionary(dir.members.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for key in try dict.storages(file: file.path).keys {
            let name = root + "data/" + key
            guard let m = members[name] else {
                throw CkptError(.tensorNotFound, file: file.path, tensor: name, "storage member missing from the zip")
            }
            guard m.method == 0, m.compressedSize == m.uncompressedSize else {
                throw CkptError(
                    .unsupported, file: file.path, tensor: name,
                    "storage member is compressed (method \(m.method)); torch stores them uncompressed")
            }
            _ = try file.slice(offset: m.dataOffset, count: m.uncompressedSize, tensor: name)
            storages[key] = TorchReader.StorageBytes(
                offset: m.dataOffset, count: m.uncompressedSize, name: name, member: m)
        }
        return TorchFileLayout(stateDict: dict, storages: storages)
    }

    /// A member's bytes, stored or deflated (data.pkl is small), checked against its CRC32.
    private static func stored(_ m: ZipDirectory.Member, _ file: MappedFile) throws -> UnsafeRawBufferPointer {
        let raw = try file.slice(offset: m.dataOffset, count: m.compressedSize, tensor: m.name)
        guard m.method == 0, m.compressedSize == m.uncompressedSize else {
            throw CkptError(.unsupported, file: file.path, tensor: m.name, "compressed member (method \(m.method))")
        }
        try ZipDirectory.checkCRC(raw, of: m, file: file.path, tensor: m.name)
        return raw
    }

    /// The LONG1 magic number torch writes first in the stream format (0x1950a86a20f9469cfc6c).
    static let legacyMagic: [UInt8] = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]

    /// Before torch 1.6: pickles of the magic number, the protocol version (1001) and sys_info,
    /// the state dict, the list of storage keys; then per key an int64 element count and the bytes.
    static func legacy(_ file: MappedFile) throws -> TorchFileLayout {
        let bytes = file.bytes
        guard bytes.count >= 15, bytes[0] == 0x80, Array(bytes[2..<15]) == legacyMagic else {
            throw CkptError(.unknownFormat, file: file.path, "not a torch checkpoint (no zip, no legacy magic number)")
        }
        func bad(_ why: String) -> CkptError { CkptError(.malformed, file: file.path, why) }
        var u = RestrictedUnpickler(bytes, at: 15, file: file.path, member: "pickle")
        guard try u.load().asInt == 1001 else { throw bad("legacy protocol version is not 1001") }
        let info = try u.load()
        let little = u.heap.pairs(info)?.first { $0.0.asString == "little_endian" }?.1
        guard case .bool(true)? = little else {
            throw CkptError(.unsupported, file: file.path, "saved on a big-endian machine (only little-endian)")
        }
        let root = try u.load()
        let dict = try TorchStateDict(root, heap: u.heap, file: file.path, member: "pickle")
        let types = try dict.storages(file: file.path)
        let keysValue = try u.load()
        guard let keys = u.heap.items(keysValue)?.map({ $0.asString }), !keys.contains(nil) else {
            throw bad("the storage key list is not a list of strings")
        }
        return TorchFileLayout(
            stateDict: dict, storages: try legacyStorages(keys.map { $0! }, types, file, at: u.position))
    }

    /// The storages appended after the pickles, in key-list order.
    private static func legacyStorages(
        _ keys: [String], _ types: [String: TorchStorageRef], _ file: MappedFile, at start: Int
    ) throws -> [String: TorchReader.StorageBytes] {
        var storages: [String: TorchReader.StorageBytes] = [:]
        var r = ByteReader(file.bytes, offset: start)
        for key in keys {
            let itemSize = types[key]?.dtype.itemSize ?? 1
            guard let n = r.uint64LE() else {
                throw CkptError(.truncated, file: file.path, tensor: "storage \(key)", "file ends before the storage")
            }
            let (count, overflow) = Int(clamping: n).multipliedReportingOverflow(by: itemSize)
            guard n < UInt64(Int.max), !overflow, count <= file.size - r.offset else {
                throw CkptError(
                    .truncated, file: file.path, tensor: "storage \(key)",
                    "storage of \(n) elements runs past the end of the file")
            }
            storages[key] = TorchReader.StorageBytes(offset: r.offset, count: count, name: "storage \(key)")
            _ = r.seek(to: r.offset + count)
        }
        return storages
    }
}
