#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import CSystem

/// An `errno` value, typed (swift-system's `Errno`, with the cases ckpt tells apart).
struct Errno: Error, Equatable {
    let rawValue: Int32

    /// `errno` now.
    static var current: Errno { Errno(rawValue: errno) }

    /// ENOENT, ENOTDIR: nothing at the path.
    var isNotFound: Bool { rawValue == ENOENT || rawValue == ENOTDIR }
    /// EINTR: try again.
    var isInterrupted: Bool { rawValue == EINTR }
    /// EINVAL (fsync on a file that cannot be synced: nothing to wait for).
    var isInvalid: Bool { rawValue == EINVAL }
    /// The kernel cannot copy between these files (copy_file_range): read and write instead.
    var isCopyUnsupported: Bool { [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, EBADF].contains(rawValue) }

    /// strerror's text, "disk full" and the file size limit said plainly.
    var reason: String {
        switch rawValue {
        case ENOSPC: return "disk full"
        case EFBIG: return "file size limit reached (ulimit -f)"
        default: return String(cString: strerror(rawValue))
        }
    }
}

extension Errno {
    /// The one-line error ckpt reports: `PATH: WHAT: REASON`.
    func error(_ path: String, _ what: String) -> CkptError { CkptError(.ioFailure, file: path, "\(what): \(reason)") }
}

extension Result where Failure == Errno {
    /// The value, or the typed error `PATH: WHAT: REASON`.
    func get(_ path: String, _ what: String) throws -> Success {
        switch self {
        case .success(let v): return v
        case .failure(let e): throw e.error(path, what)
        }
    }
}

/// `struct stat`, named apart from the function of the same name.
typealias FileStatus = Glibc.stat

/// `stat(2)` itself (inside `Sys` the name `stat` is the wrapper).
private func systemStat(_ path: String, _ st: inout FileStatus) -> Int32 { stat(path, &st) }

/// Every POSIX call ckpt makes, each wrapped once (swift-system's `system_*` habit): results are
/// values or a typed `Errno`, never a raw -1. Platform differences would live here only.
enum Sys {
    /// -1 (or nil) to `Errno.current`.
    static func valueOrErrno<T: BinaryInteger>(_ v: T) -> Result<T, Errno> {
        v == -1 ? .failure(.current) : .success(v)
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Result<Int32, Errno> {
        valueOrErrno(Glibc.open(path, flags | O_CLOEXEC, mode))
    }

    static func openForReading(_ path: String) -> Result<Int32, Errno> { open(path, O_RDONLY) }
    /// A new file; it must not exist.
    static func createNew(_ path: String) -> Result<Int32, Errno> { open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
    static func openForWriting(_ path: String) -> Result<Int32, Errno> { open(path, O_WRONLY) }

    static var processID: Int32 { getpid() }

    static func close(_ fd: Int32) -> Result<Int32, Errno> { valueOrErrno(Glibc.close(fd)) }

    static func write(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int) -> Result<Int, Errno> {
        valueOrErrno(Glibc.write(fd, p, count))
    }

    static func pread(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ count: Int, _ offset: Int) -> Result<Int, Errno> {
        valueOrErrno(Glibc.pread(fd, p, count, off_t(offset)))
    }

    static func lseek(_ fd: Int32, _ offset: Int) -> Result<off_t, Errno> {
        valueOrErrno(Glibc.lseek(fd, off_t(offset), SEEK_SET))
    }

    static func fsync(_ fd: Int32) -> Result<Int32, Errno> { valueOrErrno(Glibc.fsync(fd)) }

    /// copy_file_range(2) from `src` at `offset` (advanced) to `dst`'s position (CSystem's shim).
    static func copyFileRange(_ src: Int32, _ offset: inout Int64, _ dst: Int32, _ count: Int) -> Result<Int, Errno> {
        valueOrErrno(ckpt_copy_file_range(src, &offset, dst, count))
    }

    /// Reserves `size` bytes for the file (fallocate; best effort).
    static func preallocate(_ fd: Int32, _ size: Int) { _ = ckpt_preallocate(fd, Int64(size)) }

    static func fstat(_ fd: Int32) -> Result<FileStatus, Errno> {
        var st = FileStatus()
        return Glibc.fstat(fd, &st) == 0 ? .success(st) : .failure(.current)
    }

    /// `stat` (following links) or, with `follow: false`, `lstat`.
    static func stat(_ path: String, follow: Bool = true) -> Result<FileStatus, Errno> {
        var st = FileStatus()
        let r = follow ? systemStat(path, &st) : Glibc.lstat(path, &st)
        return r == 0 ? .success(st) : .failure(.current)
    }

    static func access(_ path: String) -> Bool { Glibc.access(path, F_OK) == 0 }

    static func mkdir(_ path: String) -> Result<Int32, Errno> { valueOrErrno(Glibc.mkdir(path, 0o755)) }
    static func rename(_ from: String, _ to: String) -> Result<Int32, Errno> { valueOrErrno(Glibc.rename(from, to)) }
    @discardableResult static func unlink(_ path: String) -> Result<Int32, Errno> { valueOrErrno(Glibc.unlink(path)) }
    @discardableResult static func rmdir(_ path: String) -> Result<Int32, Errno> { valueOrErrno(Glibc.rmdir(path)) }

    /// The path with every symbolic link resolved (it must exist).
    static func realpath(_ path: String) -> Result<String, Errno> {
        guard let r = Glibc.realpath(path, nil) else { return .failure(.current) }
        defer { free(r) }
        return .success(String(cString: r))
    }

    static func mapReadOnly(_ fd: Int32, _ size: Int) -> Result<UnsafeRawPointer, Errno> {
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { return .failure(.current) }
        return .success(UnsafeRawPointer(p))
    }

    static func unmap(_ p: UnsafeRawPointer, _ size: Int) { munmap(UnsafeMutableRawPointer(mutating: p), size) }

    /// Drops pages of a private read-only mapping (they are re-read from the page cache).
    static func dontNeed(_ p: UnsafeRawPointer, _ size: Int) {
        _ = madvise(UnsafeMutableRawPointer(mutating: p), size, MADV_DONTNEED)
    }

    static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// Asks for transparent huge pages over a region not yet touched (best effort).
    static func hugePages(_ p: UnsafeMutableRawPointer, _ size: Int) { _ = madvise(p, size, MADV_HUGEPAGE) }

    /// Names in a folder, without `.` and `..`; nil when it cannot be read.
    static func listFolder(_ path: String) -> [String]? {
        guard let d = opendir(path) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The kind of file `st` describes.
    static func isRegular(_ st: FileStatus) -> Bool { (st.st_mode & S_IFMT) == S_IFREG }
    static func isDirectory(_ st: FileStatus) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }
}
