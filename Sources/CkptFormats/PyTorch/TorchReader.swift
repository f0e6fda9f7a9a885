import CkptCore
import Foundation

/// A PyTorch checkpoint (`torch.save` of a state dict: `pytorch_model.bin`, `*.pt`, `*.pth`), in
/// the zip format torch writes since 1.6 (`<name>/data.pkl`, `<name>/data/<key>` stored members)
/// or the older stream format (pickles, then each storage's bytes). The pickle is read by
/// `RestrictedUnpickler`: nothing in it runs. Contiguous views are handed out in place from the
/// mapping (and copied by the kernel by writers); strided views are gathered into C order.
public final class TorchReader: TensorSource {
    public let formatName = "pytorch"
    public let path: String
    public let tensors: [TensorInfo]
    /// Names that are the very view of an earlier name (a tied weight stored twice), to that name.
    public let aliases: [String: String]
    /// State-dict entries that are not tensors (an epoch number, a nested config), not listed.
    public let skippedEntries: Int
    /// `zip` (torch ≥ 1.6) or `legacy`.
    public let container: String

    public var details: [(key: String, value: String)] {
        [
            ("container", container), ("storages", String(storageBytes.count)),
            ("tied_aliases", String(aliases.count)), ("non_tensor_entries", String(skippedEntries)),
        ]
    }

    /// Where one storage's bytes lie in the file.
    struct StorageBytes {
        let offset: Int
        let count: Int
        /// The zip member or the legacy stream's storage key, for messages.
        let name: String
        /// The zip member (zip format), whose CRC32 is checked before the bytes are handed out.
        var member: ZipDirectory.Member? = nil
    }

    private let file: MappedFile
    private let views: [String: TorchTensorRef]
    private let storageBytes: [String: StorageBytes]
    private let verified = VerifiedSet()

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let magic = Array(file.bytes.prefix(4))
        let zipped = magic == [0x50, 0x4b, 0x03, 0x04] || magic == [0x50, 0x4b, 0x05, 0x06]
        let layout: TorchFileLayout = zipped ? try TorchFileLayout.zip(file) : try TorchFileLayout.legacy(file)
        container = zipped ? "zip" : "legacy"
        let dict = layout.stateDict
        var infos: [TensorInfo] = []
        var views: [String: TorchTensorRef] = [:]
        for (name, ref) in dict.tensors {
            guard let bytes = layout.storages[ref.storage.key] else {
                throw CkptError(
                    .tensorNotFound, file: path, tensor: name, "its storage '\(ref.storage.key)' is not in the file")
            }
            let needed = ShapeMath.byteCount([ref.storage.elementCount], ref.storage.dtype) ?? Int.max
            guard bytes.count >= needed else {
                throw CkptError(
                    .truncated, file: path, tensor: name,
                    "storage \(bytes.name) holds \(bytes.count) bytes, the tensor's storage needs \(needed)")
            }
            infos.append(
                TensorInfo(
                    name: name, dtype: ref.storage.dtype, shape: ref.shape,
                    byteCount: ShapeMath.byteCount(ref.shape, ref.storage.dtype)!))
            views[name] = ref
        }
        tensors = infos
        self.views = views
        storageBytes = layout.storages
        aliases = dict.aliases
        skippedEntries = dict.skipped
    }

    public func storedRange(of tensor: TensorInfo) -> StoredRange? {
        guard let v = views[tensor.name], let s = storageBytes[v.storage.key],
            TorchView.isContiguous(shape: v.shape, strides: v.strides)
        else { return nil }
        return StoredRange(path: path, offset: s.offset + v.offset * v.storage.dtype.itemSize!, count: tensor.byteCount)
    }

    public func discard(_ tensor: TensorInfo) {
        guard let r = storedRange(of: tensor) else { return }
        file.discard(offset: r.offset, count: r.count)
    }

    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let v = views[tensor.name], let s = storageBytes[v.storage.key] else {
            throw CkptError(.tensorNotFound, file: path, tensor: tensor.name, "no such tensor")
        }
        let storage = try file.slice(offset: s.offset, count: s.count, tensor: tensor.name)
        try verify(storage, s, tensor.name)
        let itemSize = v.storage.dtype.itemSize!
        if TorchView.isContiguous(shape: v.shape, strides: v.strides) {
            let start = v.offset * itemSize
            return try body(UnsafeRawBufferPointer(rebasing: storage[start..<start + tensor.byteCount]))
        }
        var out = [UInt8](repeating: 0, count: tensor.byteCount)
        out.withUnsafeMutableBytes { StridedGather.gather(storage, v, itemSize: itemSize, into: $0) }
        return try out.withUnsafeBytes(body)
    }

    /// The member's CRC32, once per storage (tied views share one).
    private func verify(_ bytes: UnsafeRawBufferPointer, _ s: StorageBytes, _ name: String) throws {
        guard let member = s.member, !verified.contains(s.name) else { return }
        try ZipDirectory.checkCRC(bytes, of: member, file: path, tensor: name)
        verified.insert(s.name)
    }
}

/// Copies a strided view into C order: runs of the innermost dimension at once when it is
/// contiguous, element by element otherwise (views of this kind are rare in checkpoints).
enum StridedGather {
    static func gather(
        _ storage: UnsafeRawBufferPointer, _ v: TorchTensorRef, itemSize: Int, into dst: UnsafeMutableRawBufferPointer
    ) {
        let count = v.shape.reduce(1, *)
        guard count > 0, let src = storage.baseAddress, let out = dst.baseAddress else { return }
        let rank = v.shape.count
        let inner = rank == 0 ? 1 : v.shape[rank - 1]
        let innerStride = rank == 0 ? 1 : v.strides[rank - 1]
        var index = [Int](repeating: 0, count: max(rank - 1, 0))
        var written = 0
        while written < count {
            var at = v.offset
            for d in 0..<index.count { at += index[d] * v.strides[d] }
            if innerStride == 1 {
                (out + written * itemSize).copyMemory(from: src + at * itemSize, byteCount: inner * itemSize)
            } else {
                for i in 0..<inner {
                    (out + (written + i) * itemSize).copyMemory(
                        from: src + (at + i * innerStride) * itemSize, byteCount: itemSize)
                }
            }
            written += inner
            var d = index.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < v.shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
    }
}

/// Storage members already checked (a lock: writers verify on a second thread).
final class VerifiedSet: @unchecked Sendable {
    private var members = Set<String>()
    private let lock = NSLock()

    func contains(_ m: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return members.contains(m)
    }

    func insert(_ m: String) {
        lock.lock()
        defer { lock.unlock() }
        members.insert(m)
    }
}
