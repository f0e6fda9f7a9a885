#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CSystem

/// An output folder that appears under its final name only when complete: files are written
/// into a hidden temporary folder beside it, which `commit()` renames into place. Until then, and
/// after any failure, nothing exists under the final name (or the previous folder stays as it was).
public final class AtomicDirectory {
    public let finalPath: String
    /// Where files go while the job runs.
    public let workPath: String
    private var committed = false

    /// Refuses an existing non-empty `path` unless `force`.
    public init(path: String, force: Bool) throws {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        finalPath = p
        if FileSystem.exists(p) {
            guard FileSystem.isDirectory(p) else {
                throw CkptError(.ioFailure, file: p, "exists and is not a folder")
            }
            if !force && !FileSystem.contents(of: p).isEmpty {
                throw CkptError(.ioFailure, file: p, "output folder exists and is not empty (use --force to replace it)")
            }
        }
        let parent = FileSystem.dirname(p)
        guard FileSystem.isDirectory(parent) else {
            throw CkptError(.fileNotFound, file: parent, "parent folder of the output does not exist")
        }
        workPath = FileSystem.join(parent, ".\(FileSystem.basename(p)).ckpt-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard mkdir(workPath, 0o755) == 0 else {
            throw CkptError(.ioFailure, file: workPath, "cannot create the output folder: \(String(cString: strerror(errno)))")
        }
        // An interrupt (Ctrl-C, kill) from here on removes the unfinished folder (CSystem's watcher).
        ckpt_interrupts_protect(workPath, p)
    }

    deinit {
        if !committed {
            Self.removeTree(workPath)
            ckpt_interrupts_protect(nil, nil)
        }
    }

    public func file(_ name: String) -> String { FileSystem.join(workPath, name) }

    /// Moves the finished folder to its final name, replacing an old one.
    public func commit() throws {
        // An interrupt during the renames waits for them, then finds nothing left to remove.
        ckpt_interrupts_begin_commit()
        defer { ckpt_interrupts_end_commit() }
        var old: String?
        if FileSystem.exists(finalPath) {
            let backup = workPath + ".old"
            guard rename(finalPath, backup) == 0 else {
                throw CkptError(.ioFailure, file: finalPath, "cannot move the old folder aside: \(String(cString: strerror(errno)))")
            }
            old = backup
        }
        guard rename(workPath, finalPath) == 0 else {
            let reason = String(cString: strerror(errno))
            if let old { _ = rename(old, finalPath) }
            throw CkptError(.ioFailure, file: finalPath, "cannot move the output into place: \(reason)")
        }
        committed = true
        if let old { Self.removeTree(old) }
    }

    /// Removes a folder and everything in it (the replaced output may hold subfolders of its own).
    static func removeTree(_ path: String) {
        for name in FileSystem.contents(of: path) {
            let child = FileSystem.join(path, name)
            var st = stat()
            if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
        }
        rmdir(path)
    }
}
