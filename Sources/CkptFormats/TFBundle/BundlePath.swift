import CkptCore
import Foundation

/// Finds the bundle prefix (`model.ckpt`) from whatever the user pointed at: the prefix itself,
/// the `.index` file, a `.data-0000k-of-0000n` shard, or a folder holding a `checkpoint` state
/// file (or a single `.index`). File names follow tensorflow/core/util/tensor_bundle/naming.cc.
public enum BundlePath {
    public static func indexFile(_ prefix: String) -> String { prefix + ".index" }

    public static func dataFile(_ prefix: String, shard: Int, of count: Int) -> String {
        prefix + ".data-" + pad5(shard) + "-of-" + pad5(count)
    }

    private static func pad5(_ n: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 5 - s.count)) + s
    }

    /// True when `path` names something this resolver turns into a prefix.
    public static func looksLikeBundle(_ path: String) -> Bool {
        (try? resolvePrefix(path)) != nil
    }

    public static func resolvePrefix(_ path: String) throws -> String {
        if FileSystem.isDirectory(path) { return try prefixInFolder(path) }
        if path.hasSuffix(".index") { return String(path.dropLast(".index".count)) }
        if let prefix = dataShardPrefix(path) { return prefix }
        if FileSystem.exists(indexFile(path)) { return path }
        throw CkptError(.fileNotFound, file: path, "no such file, and no \(FileSystem.basename(path)).index beside it")
    }

    /// `PREFIX` of `PREFIX.data-0000k-of-0000n`, else nil (no regular expressions: they load ICU).
    public static func dataShardPrefix(_ path: String) -> String? {
        let suffixLength = ".data-00000-of-00000".count
        let u = Array(path.utf8)
        guard u.count > suffixLength else { return nil }
        let tail = Array(u[(u.count - suffixLength)...])
        let pattern = Array(".data-#####-of-#####".utf8)
        for (c, p) in zip(tail, pattern) {
            if p == UInt8(ascii: "#") {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else { return nil }
            } else if c != p {
                return nil
            }
        }
        return String(decoding: u[..<(u.count - suffixLength)], as: UTF8.self)
    }

    private static func prefixInFolder(_ dir: String) throws -> String {
        let state = FileSystem.join(dir, "checkpoint")
        if FileSystem.exists(state) {
            let text = try FileSystem.readText(state)
            guard let p = modelCheckpointPath(inStateFile: text) else {
                throw CkptError(.malformed, file: state, "no model_checkpoint_path in the checkpoint state file")
            }
            return FileSystem.join(dir, p)
        }
        let indexes = FileSystem.contents(of: dir).filter { $0.hasSuffix(".index") }
        if indexes.count == 1 { return FileSystem.join(dir, String(indexes[0].dropLast(6))) }
        if indexes.isEmpty {
            throw CkptError(.unknownFormat, file: dir, "folder holds no checkpoint state file and no .index file")
        }
        throw CkptError(
            .unknownFormat, file: dir,
            "folder holds \(indexes.count) .index files and no checkpoint state file; name one")
    }

    /// The `CheckpointState` text proto: `model_checkpoint_path: "..."` (C-escaped string).
    static func modelCheckpointPath(inStateFile text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("model_checkpoint_path:") else { continue }
            let rest = t.dropFirst("model_checkpoint_path:".count).trimmingCharacters(in: .whitespaces)
            guard rest.count >= 2, rest.first == "\"", rest.last == "\"" else { return nil }
            return unescape(String(rest.dropFirst().dropLast()))
        }
        return nil
    }

    private static func unescape(_ s: String) -> String {
        var out = ""
        var it = s.makeIterator()
        while let c = it.next() {
            if c == "\\", let n = it.next() {
                switch n {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(n)
                }
            } else {
                out.append(c)
            }
        }
        return out
    }
}
