/// A whole file mapped read-only. Tensor bytes are handed out as views into the mapping, so a
/// read never copies and memory stays with the page cache, bounded by what is touched.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    private let base: UnsafeRawPointer?

    /// Opens and maps `path` (an empty file maps to an empty buffer).
    public init(path: String) throws {
        self.path = path
        let fd: Int32
        switch Sys.openForReading(path) {
        case .success(let d): fd = d
        case .failure(let e):
            throw CkptError(e.isNotFound ? .fileNotFound : .ioFailure, file: path, "cannot open: \(e.reason)")
        }
        defer { _ = Sys.close(fd) }
        let st: FileStatus
        switch Sys.fstat(fd) {
        case .success(let s): st = s
        case .failure(let e): throw CkptError(.ioFailure, file: path, "cannot stat: \(e.reason)")
        }
        guard Sys.isRegular(st) else { throw CkptError(.ioFailure, file: path, "not a regular file") }
        size = Int(st.st_size)
        if size == 0 {
            base = nil
            return
        }
        switch Sys.mapReadOnly(fd, size) {
        case .success(let p): base = p
        case .failure(let e): throw CkptError(.ioFailure, file: path, "cannot map: \(e.reason)")
        }
    }

    deinit {
        if let base { Sys.unmap(base, size) }
    }

    /// The whole file. The view is valid only while this object lives: keep a reference (a stored
    /// property, or `withExtendedLifetime`), since Swift may release a local after its last use.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// A copy of the first `count` bytes (fewer when the file is shorter).
    public func prefix(_ count: Int) -> [UInt8] {
        withExtendedLifetime(self) { Array(bytes.prefix(count)) }
    }

    /// A copy of a whole (small) file.
    public static func contents(of path: String) throws -> [UInt8] {
        let f = try MappedFile(path: path)
        return withExtendedLifetime(f) { Array(f.bytes) }
    }

    /// Drops the pages of `offset..<offset+count` from this process (madvise MADV_DONTNEED): a
    /// private read-only mapping re-reads them from the page cache if touched again.
    public func discard(offset: Int, count: Int) {
        guard let base, count > 0, offset >= 0, offset < size else { return }
        let page = Sys.pageSize
        let start = offset / page * page
        let end = min(size, offset + count)
        Sys.dontNeed(base + start, end - start)
    }

    /// `count` bytes at `offset`, or an `outOfBounds` error (checked arithmetic: both come from headers).
    public func slice(offset: Int, count: Int, tensor: String? = nil) throws -> UnsafeRawBufferPointer {
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard offset >= 0, count >= 0, !overflow, end <= size else {
            throw CkptError(
                .outOfBounds, file: path, tensor: tensor,
                "bytes \(offset)..<\(overflow ? "overflow" : String(end)) lie past the end of the file (\(size) bytes)")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
    }
}

/// File-system questions the readers ask while resolving a path.
public enum FileSystem {
    public static func exists(_ path: String) -> Bool { Sys.access(path) }

    /// The size of a regular file, or nil.
    public static func size(_ path: String) -> Int? {
        guard case .success(let st) = Sys.stat(path), Sys.isRegular(st) else { return nil }
        return Int(st.st_size)
    }

    /// A regular file (after following links): not a folder, FIFO or device.
    public static func isRegularFile(_ path: String) -> Bool {
        guard case .success(let st) = Sys.stat(path) else { return false }
        return Sys.isRegular(st)
    }

    public static func isDirectory(_ path: String) -> Bool {
        guard case .success(let st) = Sys.stat(path) else { return false }
        return Sys.isDirectory(st)
    }

    /// A regular file itself, not a link to one (what ckpt may count as its own output).
    public static func isPlainFile(_ path: String) -> Bool {
        guard case .success(let st) = Sys.stat(path, follow: false) else { return false }
        return Sys.isRegular(st)
    }

    /// A folder itself, not a link to one (what a recursive removal may descend into).
    public static func isPlainDirectory(_ path: String) -> Bool {
        guard case .success(let st) = Sys.stat(path, follow: false) else { return false }
        return Sys.isDirectory(st)
    }

    /// Names in a folder, sorted; empty when it cannot be read.
    public static func contents(of dir: String) -> [String] { (Sys.listFolder(dir) ?? []).sorted() }

    /// Reads a small text file whole (state files, JSON indexes).
    public static func readText(_ path: String) throws -> String {
        String(decoding: try MappedFile.contents(of: path), as: UTF8.self)
    }

    public static func join(_ dir: String, _ name: String) -> String {
        if name.hasPrefix("/") { return name }
        if dir.isEmpty || dir == "." { return name }
        return dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    public static func dirname(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        return i == path.startIndex ? "/" : String(path[..<i])
    }

    public static func basename(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: i)...])
    }
}

/// Memory advice for large buffers a process fills once.
public enum MemoryAdvice {
    /// Transparent huge pages for a large buffer about to be written for the first time: a
    /// 2 MiB page faults once where 512 small ones would (best effort; below 4 MiB, nothing).
    public static func hugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count >= 4 << 20 else { return }
        let huge = 2 << 20
        let start = (Int(bitPattern: base) + huge - 1) / huge * huge
        let end = (Int(bitPattern: base) + buffer.count) / huge * huge
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        Sys.hugePages(p, end - start)
    }
}
