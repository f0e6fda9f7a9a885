#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole file mapped read-only. Tensor bytes are handed out as views into the mapping, so a
/// read never copies and memory stays with the page cache, bounded by what is touched.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    private let base: UnsafeRawPointer?

    /// Opens and maps `path` (an empty file maps to an empty buffer).
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            let kind: CkptError.Kind = (code == ENOENT || code == ENOTDIR) ? .fileNotFound : .ioFailure
            throw CkptError(kind, file: path, "cannot open: \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw CkptError(.ioFailure, file: path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw CkptError(.ioFailure, file: path, "not a regular file")
        }
        size = Int(st.st_size)
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw CkptError(.ioFailure, file: path, "cannot map: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
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
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let end = min(size, offset + count)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
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
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The size of a regular file, or nil.
    public static func size(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(st.st_size)
    }

    /// A regular file (after following links): not a folder, FIFO or device.
    public static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Names in a folder, sorted; empty when it cannot be read.
    public static func contents(of dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

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
