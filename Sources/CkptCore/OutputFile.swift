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
        fd = try Sys.createNew(path).get(path, "cannot create")
    }

    /// Opens an existing file to write into at chosen offsets (`seek`), as the Keras writer fills
    /// the datasets libhdf5 reserved.
    public init(existing path: String) throws {
        self.path = path
        fd = try Sys.openForWriting(path).get(path, "cannot open")
    }

    /// Moves the write position; `bytesWritten` keeps counting bytes, not positions.
    public func seek(to offset: Int) throws {
        guard try Sys.lseek(fd, offset).get(path, "cannot seek in") == off_t(offset) else {
            throw CkptError(.ioFailure, file: path, "cannot seek in: moved elsewhere")
        }
    }

    deinit { if fd >= 0 { _ = Sys.close(fd) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            switch Sys.write(fd, p, min(left, 1 << 30)) {
            case .success(let n):
                p += n
                left -= n
                bytesWritten += n
            case .failure(let e) where e.isInterrupted: continue
            case .failure(let e): throw e.error(path, "cannot write")
            }
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Reserves the file's final size up front (best effort): measured on ext4, a 400 MB copy into
    /// a preallocated file takes about 0.13 s instead of 0.17 s.
    public func preallocate(_ size: Int) { Sys.preallocate(fd, size) }

    /// Appends `range` of another file, copied by the kernel (copy_file_range), falling back to
    /// read and write where the file systems do not support it.
    public func append(_ range: StoredRange) throws {
        let src = try Sys.openForReading(range.path).get(range.path, "cannot open")
        defer { _ = Sys.close(src) }
        var offset = Int64(range.offset)
        var left = range.count
        while left > 0 {
            switch Sys.copyFileRange(src, &offset, fd, min(left, 1 << 30)) {
            case .success(0):
                throw CkptError(.truncated, file: range.path, "ends before byte \(range.offset + range.count)")
            case .success(let n):
                left -= n
                bytesWritten += n
            case .failure(let e) where e.isInterrupted: continue
            case .failure(let e) where e.isCopyUnsupported:
                return try appendByReading(src, from: Int(offset), count: left, sourcePath: range.path)
            case .failure(let e): throw e.error(path, "cannot copy into")
            }
        }
    }

    private func appendByReading(_ src: Int32, from start: Int, count: Int, sourcePath: String) throws {
        try Sys.readRange(src, path: sourcePath, from: start, count: count, buffer: 4 << 20) { try write($0) }
    }

    /// Closes the file; with `sync`, first waits until its bytes are on disk. Conversions do not
    /// sync: their atomicity is against failed runs (rename after a complete write), as with `cp`.
    public func close(sync: Bool = false) throws {
        guard fd >= 0 else { return }
        defer { fd = -1 }
        if sync, case .failure(let e) = Sys.fsync(fd), !e.isInvalid { throw e.error(path, "cannot sync") }
        _ = try Sys.close(fd).get(path, "cannot close")
    }
}
