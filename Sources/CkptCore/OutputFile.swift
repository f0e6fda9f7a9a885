#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// Flushes to disk and closes; the file is complete only after this returns.
    public func close() throws {
        guard fd >= 0 else { return }
        defer { fd = -1 }
        if fsync(fd) != 0 && errno != EINVAL { throw Self.error(path, "cannot sync") }
        if Glibc.close(fd) != 0 { throw Self.error(path, "cannot close") }
    }

    static func error(_ path: String, _ what: String) -> CkptError {
        let code = errno
        let reason = code == ENOSPC ? "disk full" : String(cString: strerror(code))
        return CkptError(.ioFailure, file: path, "\(what): \(reason)")
    }
}
