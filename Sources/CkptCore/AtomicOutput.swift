import CSystem

/// An output — a folder of files, or one file — that appears under its final name only when
/// complete: it is written under a hidden temporary name beside it, which `commit()` renames into
/// place. Until then, and after any failure or interrupt, nothing exists under the final name (or
/// the previous output stays as it was). Every writer of ckpt goes through it.
public final class AtomicOutput {
    public let finalPath: String
    /// Where the output is written while the job runs (a folder, or a file for `init(file:)`).
    public let workPath: String
    private let isFile: Bool
    private var committed = false

    /// The file that marks a folder as ckpt's output; it lists the files ckpt wrote there, so that
    /// `--force` can tell them from anything a user keeps in the folder.
    public static let markerName = ".ckpt-output"

    /// Refuses an existing non-empty `path` unless `force`, and with `force` unless every entry
    /// of it is a file that ckpt itself wrote there (listed in its marker).
    public init(path: String, force: Bool) throws {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        finalPath = p
        isFile = false
        if FileSystem.exists(p) {
            guard FileSystem.isDirectory(p) else {
                throw CkptError(.badUsage, file: p, "exists and is not a folder")
            }
            let entries = FileSystem.contents(of: p)
            if !entries.isEmpty {
                guard force else {
                    throw CkptError(
                        .badUsage, file: p,
                        "output folder exists and is not empty (--force replaces a folder that ckpt wrote)")
                }
                if let foreign = Self.foreignEntry(of: p, entries: entries) {
                    throw CkptError(
                        .badUsage, file: p,
                        "--force replaces only what ckpt wrote, and ckpt did not write "
                            + "'\(foreign)'; remove it or write somewhere else")
                }
            }
        }
        workPath = try Self.temporaryName(for: p)
        _ = try Sys.mkdir(workPath).get(p, "cannot create the output folder")
        // An interrupt (Ctrl-C, kill) from here on removes the unfinished folder (CSystem's watcher).
        ckpt_interrupts_protect(workPath, p)
    }

    /// One output file (`workPath` is where to write it). An existing `path` is replaced only
    /// with `force`, and only when `isOwn` recognises it as a file ckpt wrote.
    public init(file path: String, force: Bool, isOwn: (String) -> Bool) throws {
        finalPath = path
        isFile = true
        try Self.checkReplaceable(file: path, force: force, isOwn: isOwn)
        workPath = try Self.temporaryName(for: path)
        ckpt_interrupts_protect(workPath, path)
    }

    /// Whether a file output may be written at `path`: free, or (with `force`) a regular file that
    /// `isOwn` recognises as ckpt's. Callers check before any work, and again when writing.
    public static func checkReplaceable(file path: String, force: Bool, isOwn: (String) -> Bool) throws {
        guard FileSystem.exists(path) else { return }
        guard FileSystem.isRegularFile(path) else { throw CkptError(.badUsage, file: path, "exists and is not a file") }
        guard force else { throw CkptError(.badUsage, file: path, "exists (--force replaces a file that ckpt wrote)") }
        guard isOwn(path) else {
            throw CkptError(
                .badUsage, file: path, "--force replaces only a file that ckpt wrote, and this file is not one")
        }
    }

    /// A hidden name beside `path`, unique to this process and call.
    private static func temporaryName(for path: String) throws -> String {
        let parent = FileSystem.dirname(path)
        guard FileSystem.isDirectory(parent) else {
            throw CkptError(.fileNotFound, file: parent, "parent folder of the output does not exist")
        }
        return FileSystem.join(
            parent, ".\(FileSystem.basename(path)).ckpt-tmp-\(Sys.processID)-\(UInt32.random(in: 0...UInt32.max))")
    }

    deinit {
        if !committed {
            if isFile { Sys.unlink(workPath) } else { Self.removeTree(workPath) }
            ckpt_interrupts_protect(nil, nil)
        }
    }

    public func file(_ name: String) -> String { FileSystem.join(workPath, name) }

    /// The first entry of an existing output folder that ckpt did not write (nil: all are ckpt's).
    /// ckpt's own are the files its marker lists; a folder without a marker is not ckpt's.
    static func foreignEntry(of folder: String, entries: [String]) -> String? {
        let marker = FileSystem.join(folder, markerName)
        guard !FileSystem.isDirectory(marker), let text = try? FileSystem.readText(marker),
            text.hasPrefix(markerHeading)
        else {
            return entries.sorted().first
        }
        let listed = Set(text.split(separator: "\n").dropFirst().map(String.init))
        return entries.sorted().first { name in
            if name == markerName { return false }
            if !listed.contains(name) { return true }
            // Only plain files are ckpt's (a user's folder of the same name is not).
            return !FileSystem.isPlainFile(FileSystem.join(folder, name))
        }
    }

    static let markerHeading = "written by ckpt; `--force` may replace the files listed below\n"

    /// Writes the marker listing `files` (the names written into the folder).
    public func mark(files: [String]) throws {
        let f = try OutputFile(path: file(Self.markerName))
        try f.write(Array((Self.markerHeading + files.map { $0 + "\n" }.joined()).utf8))
        try f.close()
    }

    /// Moves the finished folder to its final name, replacing an old one.
    public func commit() throws {
        // An interrupt during the renames waits for them, then finds nothing left to remove.
        ckpt_interrupts_begin_commit()
        defer { ckpt_interrupts_end_commit() }
        if isFile {
            // rename(2) replaces an existing file atomically.
            _ = try Sys.rename(workPath, finalPath).get(finalPath, "cannot move the output into place")
            committed = true
            return
        }
        var old: String?
        if FileSystem.exists(finalPath) {
            let backup = workPath + ".old"
            _ = try Sys.rename(finalPath, backup).get(finalPath, "cannot move the old folder aside")
            old = backup
        }
        if case .failure(let e) = Sys.rename(workPath, finalPath) {
            if let old { _ = Sys.rename(old, finalPath) }
            throw e.error(finalPath, "cannot move the output into place")
        }
        committed = true
        if let old { Self.removeTree(old) }
    }

    /// Removes a folder and everything in it (the replaced output may hold subfolders of its own).
    static func removeTree(_ path: String) {
        for name in FileSystem.contents(of: path) {
            let child = FileSystem.join(path, name)
            if FileSystem.isPlainDirectory(child) { removeTree(child) } else { Sys.unlink(child) }
        }
        Sys.rmdir(path)
    }
}
