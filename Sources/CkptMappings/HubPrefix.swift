import CkptCore
import Foundation

/// Files saved from transformers' base-model classes (`BertModel`, `GPT2Model`) name the tensors
/// without the prefix the head classes add (`embeddings.word_embeddings.weight` for
/// `bert.embeddings.word_embeddings.weight`); the tables name them with it.
public enum HubPrefix {
    /// The names as the family's head classes spell them: the prefix added where it is missing
    /// (task heads and the tables' own head names stay as they are).
    static func prefixed(_ names: Set<String>, table: MappingTable) -> Set<String> {
        guard let prefix = table.hub?.basePrefix, !names.contains(where: { $0.hasPrefix(prefix) }) else { return names }
        return Set(names.map { canonical($0, prefix: prefix, table: table) })
    }

    static func canonical(_ name: String, prefix: String, table: MappingTable) -> String {
        table.hub?.isTaskHead(name) ?? false ? name : prefix + name
    }

    /// Canonical name to the source's name, when the source is a base-model file of the table's
    /// family (no name carries the prefix, and with it the table's required names are present); nil
    /// when the names need no change.
    public static func renaming(_ names: [String], table: MappingTable) -> [String: String]? {
        guard let prefix = table.hub?.basePrefix, !names.isEmpty, !names.contains(where: { $0.hasPrefix(prefix) })
        else { return nil }
        let map = Dictionary(
            names.map { (canonical($0, prefix: prefix, table: table), $0) }, uniquingKeysWith: { a, _ in a })
        return ArchitectureDetector.reads(table, layout: .hf, Set(map.keys)) ? map : nil
    }
}

/// A source seen under other names (a base-model file under its family's prefix); data, ranges and
/// checksums are the source's own.
public final class RenamedSource: TensorSource {
    public let base: any TensorSource
    public let tensors: [TensorInfo]
    /// The new name to the source's own name.
    public let originalNames: [String: String]

    public init(_ base: any TensorSource, renaming: [String: String]) {
        self.base = base
        originalNames = renaming
        let newName = Dictionary(renaming.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        tensors = base.tensors.map { t in
            TensorInfo(
                name: newName[t.name] ?? t.name, dtype: t.dtype, shape: t.shape, byteCount: t.byteCount,
                isBookkeeping: t.isBookkeeping, group: t.group, indexInGroup: t.indexInGroup)
        }
    }

    public var formatName: String { base.formatName }
    public var path: String { base.path }
    public var metadata: [String: String] { base.metadata }
    public var files: [String] { base.files }
    public var details: [(key: String, value: String)] { base.details }
    public var aliases: [String: String] {
        let newName = Dictionary(originalNames.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        return Dictionary(
            base.aliases.map { (newName[$0] ?? $0, newName[$1] ?? $1) }, uniquingKeysWith: { a, _ in a })
    }

    /// `error` with the names this view gave replaced by the file's own (messages name tensors
    /// as the user's file does).
    public func userFacing(_ error: CkptError) -> CkptError {
        var detail = error.detail
        // Longest first, so that a name inside a longer one is not replaced first.
        for (new, old) in originalNames.sorted(by: { $0.key.count > $1.key.count }) where new != old {
            detail = detail.replacingOccurrences(of: new, with: old)
        }
        return CkptError(
            error.kind, file: error.file, tensor: error.tensor.map { originalNames[$0] ?? $0 }, detail)
    }

    func original(_ t: TensorInfo) -> TensorInfo {
        TensorInfo(
            name: originalNames[t.name] ?? t.name, dtype: t.dtype, shape: t.shape, byteCount: t.byteCount,
            isBookkeeping: t.isBookkeeping, group: t.group, indexInGroup: t.indexInGroup)
    }

    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try base.withBytes(of: original(tensor), body)
    }

    public func strings(of tensor: TensorInfo) throws -> [[UInt8]] { try base.strings(of: original(tensor)) }
    public func discard(_ tensor: TensorInfo) { base.discard(original(tensor)) }
    public func storedRange(of tensor: TensorInfo) -> StoredRange? { base.storedRange(of: original(tensor)) }
    public func storedCRC32C(of tensor: TensorInfo) -> UInt32? { base.storedCRC32C(of: original(tensor)) }
    public func mappedBytes(of tensor: TensorInfo) throws -> MappedBytes? { try base.mappedBytes(of: original(tensor)) }
}
