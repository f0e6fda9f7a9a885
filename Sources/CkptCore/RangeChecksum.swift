/// The CRC32C of a range of a file, read with `pread` through one small buffer: nothing is
/// mapped, so checking a copied tensor adds nothing to the process's resident set (a mapped
/// 173 MB word-embedding table would, while the conversion's other tensors are in memory too).
extension StoredRange {
    public func crc32c() throws -> UInt32 {
        let fd = try Sys.openForReading(path).get(path, "cannot open")
        defer { _ = Sys.close(fd) }
        var crc: UInt32 = 0
        try Sys.readRange(fd, path: path, from: offset, count: count, buffer: 1 << 20) {
            crc = Checksum.crc32c($0, extending: crc)
        }
        return crc
    }
}

extension Sys {
    /// `count` bytes of `fd` from `start`, read with `pread` into one reused buffer of at most
    /// `buffer` bytes and handed to `body` piece by piece; a file that ends early is `truncated`.
    static func readRange(
        _ fd: Int32, path: String, from start: Int, count: Int, buffer: Int,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: max(min(count, buffer), 1), alignment: 4096)
        defer { chunk.deallocate() }
        var done = 0
        while done < count {
            switch Sys.pread(fd, chunk.baseAddress, min(chunk.count, count - done), start + done) {
            case .success(0):
                throw CkptError(.truncated, file: path, "ends before byte \(start + count)")
            case .success(let n):
                try body(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
                done += n
            case .failure(let e) where e.isInterrupted: continue
            case .failure(let e): throw e.error(path, "cannot read")
            }
        }
    }
}
