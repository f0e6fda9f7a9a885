/// The promise that a writing command never loses what it reads: an output may not be an input
/// file, contain one, or lie inside a folder the user named as an input. Paths are compared after
/// resolving symbolic links (and files also by device and inode, so a hard link is the same file).
public enum OutputSafety {
    /// Throws `badUsage` when writing (creating or replacing) `output` would touch an input.
    /// - Parameters:
    ///   - readFiles: every file the command reads (checkpoint shards, index, config, vocabulary...).
    ///   - readFolders: folders the user named as inputs (a checkpoint folder): nothing may be
    ///     written inside them.
    public static func check(output: String, readFiles: [String], readFolders: [String] = []) throws {
        let out = resolve(output)
        let outIdentity = identity(output)
        for file in readFiles where FileSystem.exists(file) {
            let f = resolve(file)
            if f == out || (outIdentity != nil && outIdentity == identity(file)) {
                throw CkptError(.badUsage, file: output, "the output would replace the input \(file)")
            }
            if f.hasPrefix(out == "/" ? "/" : out + "/") {
                throw CkptError(
                    .badUsage, file: output, "the output folder holds the input \(file); write somewhere else")
            }
        }
        for folder in readFolders where FileSystem.isDirectory(folder) {
            let d = resolve(folder)
            if out == d || out.hasPrefix(d == "/" ? "/" : d + "/") {
                throw CkptError(
                    .badUsage, file: output, "the output lies inside the input folder \(folder); write somewhere else")
            }
        }
    }

    /// The absolute path with every symbolic link of its existing part resolved; the missing tail
    /// is appended as given (an output usually does not exist yet).
    public static func resolve(_ path: String) -> String {
        var p = path.isEmpty ? "." : path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        if let real = realPath(p) { return real }
        let parent = FileSystem.dirname(p)
        let name = FileSystem.basename(p)
        guard parent != p else { return p }
        let base = resolve(parent)
        if name == "." { return base }
        if name == ".." { return FileSystem.dirname(base) }
        return base == "/" ? "/" + name : base + "/" + name
    }

    private static func realPath(_ path: String) -> String? { try? Sys.realpath(path).get() }

    private static func identity(_ path: String) -> [UInt64]? {
        guard case .success(let st) = Sys.stat(path) else { return nil }
        return [UInt64(st.st_dev), UInt64(st.st_ino)]
    }
}
