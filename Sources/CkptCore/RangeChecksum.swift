/// The CRC32C of a range of a file, read with `pread` through one small buffer: nothing is
/// mapped, so checking a copied tensor adds nothing to the process's resident set (a mapped
/// 173 MB word-embedding table would, while the conversion's other tensors are in memory too).
extension StoredRange {
    public func crc32c() throws -> UInt32 {
        let fd = try Sys.openForReading(path).get(path, "cannot open")
        defer { _ = Sys.close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(max(count, 1), 1 << 20), alignment: 4096)
        defer { buffer.deallocate() }
        var crc: UInt32 = 0
        var done = 0
        while done < count {
            switch Sys.pread(fd, buffer.baseAddress, min(buffer.count, count - done), offset + done) {
            case .success(0):
                throw CkptError(.truncated, file: path, "ends before byte \(offset + count)")
            case .success(let n):
                crc = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), extending: crc)
                done += n
            case .failure(let e) where e.isInterrupted: continue
            case .failure(let e): throw e.error(path, "cannot read")
            }
        }
        return crc
    }
}
