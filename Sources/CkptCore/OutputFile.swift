#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import CSystem

/// A new file written front to back with `write(2)`: no buffering of its own, so bytes handed in
/// from a mapped source go straight to the kernel. Errors (disk full, permissions) carry the path.
public final class OutputFile {
    public let path: String
    private var fd: Int32
    public private(set) var bytesWritten = 0

    /// Creates `path`; it must not exist.
    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.error(path, "cannot create") }
    }

    /// Opens an existing file to write into at chosen offsets (`seek`), as the Keras writer fills
    /// the datasets libhdf5 reserved.
    public init(existing path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error(path, "cannot open") }
    }

    /// Moves the write position; `bytesWritten` keeps counting bytes, not positions.
    public func seek(to offset: Int) throws {
        guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else { throw Self.error(path, "cannot seek in") }
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, min(left, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error(path, "cannot write")
            }
            p += n
            left -= n
            bytesWritten += n
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Reserves the file's final size up front (best effort): measured on ext4, a 400 MB copy into
    /// a preallocated file takes about 0.13 s instead of 0.17 s.
    public func preallocate(_ size: Int) {
        _ = ckpt_preallocate(fd, Int64(size))
    }

    /// Appends `range` of another file, copied by the kernel (copy_file_range), falling back to
    /// read and write where the file systems do not support it.
    public func append(_ range: StoredRange) throws {
        let src = open(range.path, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else { throw Self.error(range.path, "cannot open") }
        defer { _ = Glibc.close(src) }
        var offset = Int64(range.offset)
        var left = range.count
        while left > 0 {
            let n = ckpt_copy_file_range(src, &offset, fd, min(left, 1 << 30))
            if n > 0 {
                left -= n
                bytesWritten += n
                continue
            }
            if n == 0 {
                throw CkptError(.truncated, file: range.path, "ends before byte \(range.offset + range.count)")
            }
            if errno == EINTR { continue }
            guard [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, EBADF].contains(errno) else {
                throw Self.error(path, "cannot copy into")
            }
            return try appendByReading(src, from: Int(offset), count: left, sourcePath: range.path)
        }
    }

    private func appendByReading(_ src: Int32, from start: Int, count: Int, sourcePath: String) throws {
        var buffer = [UInt8](repeating: 0, count: min(count, 4 << 20))
        var offset = start, left = count
        while left > 0 {
            let n = buffer.withUnsafeMutableBytes { pread(src, $0.baseAddress, min(left, $0.count), off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CkptError(.truncated, file: sourcePath, "ends before byte \(start + count)") }
            try buffer.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += n
            left -= n
        }
    }

    /// Closes the file; with `sync`, first waits until its bytes are on disk. Conversions do not
    /// sync: their atomicity is against failed runs (rename after a complete write), as with `cp`.
    public func close(sync: Bool = false) throws {
        guard fd >= 0 else { return }
        defer { fd = -1 }
        if sync && fsync(fd) != 0 && errno != EINVAL { throw Self.error(path, "cannot sync") }
        if Glibc.close(fd) != 0 { throw Self.error(path, "cannot close") }
    }

    static func error(_ path: String, _ what: String) -> CkptError {
        let code = errno
        let reason: String
        switch code {
        case ENOSPC: reason = "disk full"
        case EFBIG: reason = "file size limit reached (ulimit -f)"
        default: reason = String(cString: strerror(code))
        }
        return CkptError(.ioFailure, file: path, "\(what): \(reason)")
    }
}
