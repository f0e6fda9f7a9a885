import CkptCore

/// The central directory of a zip archive (PKWARE APPNOTE 4.3), ZIP64 included: enough to find
/// each member's data, its method (stored or deflate) and its CRC32.
struct ZipDirectory {
    struct Member {
        let name: String
        let method: UInt16
        let crc32: UInt32
        let compressedSize: Int
        let uncompressedSize: Int
        /// Offset of the member's data (after its local header).
        let dataOffset: Int
    }

    let members: [Member]

    /// Throws unless `bytes`, a member's whole data, have the CRC32 the directory records for it.
    static func checkCRC(_ bytes: UnsafeRawBufferPointer, of member: Member, file: String, tensor: String) throws {
        let actual = Checksum.crc32(bytes)
        guard actual == member.crc32 else {
            throw CkptError(
                .checksumMismatch, file: file, tensor: tensor,
                "zip CRC32 of \(member.name) mismatch (directory says \(hex(member.crc32)), data gives \(hex(actual)))")
        }
    }

    /// Whether the zip at `path` is a torch checkpoint (a `data.pkl` member).
    static func holdsTorchPickle(_ path: String) throws -> Bool {
        try ZipDirectory(file: MappedFile(path: path)).members.contains {
            $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl")
        }
    }

    init(file: MappedFile) throws {
        let (count, dirSize, dirOffset) = try Self.endOfDirectory(file)
        let dir = try file.slice(offset: dirOffset, count: dirSize)
        var d = ByteReader(dir)
        var members: [Member] = []
        for _ in 0..<count { members.append(try Self.member(&d, file: file)) }
        self.members = members
    }

    /// The member count and the central directory's size and offset, from the end-of-central-
    /// directory record (or its ZIP64 form).
    static func endOfDirectory(_ file: MappedFile) throws -> (count: Int, size: Int, offset: Int) {
        func bad(_ why: String) -> CkptError { CkptError(.malformed, file: file.path, why) }
        let bytes = file.bytes
        // End of central directory: 22 bytes plus a comment of up to 65535 bytes.
        guard file.size >= 22 else { throw CkptError(.truncated, file: file.path, "too short for a zip archive") }
        var eocd = -1
        var i = file.size - 22
        let lowest = max(0, file.size - 22 - 65535)
        while i >= lowest {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian == 0x0605_4b50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw CkptError(.badMagic, file: file.path, "no zip end-of-central-directory record") }
        var r = ByteReader(bytes, offset: eocd + 10)
        var count = Int(r.uint16LE()!)
        var dirSize = Int(r.uint32LE()!)
        var dirOffset = Int(r.uint32LE()!)
        // ZIP64: a locator just before the EOCD points at the 64-bit record.
        if eocd >= 20, bytes.loadUnaligned(fromByteOffset: eocd - 20, as: UInt32.self).littleEndian == 0x0706_4b50 {
            var loc = ByteReader(bytes, offset: eocd - 20 + 8)
            // The 64-bit record is 56 bytes: a file shorter than that cannot hold one.
            guard file.size >= 56, let off = loc.uint64LE(), off <= UInt64(file.size - 56) else {
                throw bad("bad ZIP64 locator")
            }
            var z = ByteReader(bytes, offset: Int(off))
            guard z.uint32LE() == 0x0606_4b50, z.seek(to: Int(off) + 32), let c = z.uint64LE(), let s = z.uint64LE(),
                let o = z.uint64LE(), c < UInt64(Int.max), s < UInt64(Int.max), o < UInt64(Int.max)
            else { throw bad("bad ZIP64 end-of-central-directory record") }
            count = Int(c); dirSize = Int(s); dirOffset = Int(o)
        }
        return (count, dirSize, dirOffset)
    }

    /// The next central directory entry, checked against its local header.
    static func member(_ d: inout ByteReader, file: MappedFile) throws -> Member {
        guard d.uint32LE() == 0x0201_4b50, d.seek(to: d.offset + 4), let _ = d.uint16LE(),
            let method = d.uint16LE(),
            d.seek(to: d.offset + 4), let crc = d.uint32LE(), let csize32 = d.uint32LE(),
            let usize32 = d.uint32LE(),
            let nameLen = d.uint16LE(), let extraLen = d.uint16LE(), let commentLen = d.uint16LE(),
            d.seek(to: d.offset + 8), let local32 = d.uint32LE(), let nameBytes = d.bytes(Int(nameLen)),
            let extra = d.bytes(Int(extraLen)), d.bytes(Int(commentLen)) != nil
        else { throw CkptError(.malformed, file: file.path, "central directory entry is malformed or truncated") }
        guard let name = String(validating: nameBytes, as: UTF8.self) else {
            throw CkptError(.invalidName, file: file.path, "member name is not valid UTF-8")
        }
        var usize = UInt64(usize32), csize = UInt64(csize32), local = UInt64(local32)
        // ZIP64 extended information (header id 1) holds the fields that are 0xFFFFFFFF above.
        var e = ByteReader(extra)
        while e.remaining >= 4 {
            let id = e.uint16LE()!, len = Int(e.uint16LE()!)
            guard let body = e.bytes(len) else { break }
            guard id == 1 else { continue }
            var z = ByteReader(body)
            if usize32 == 0xffff_ffff { usize = z.uint64LE() ?? usize }
            if csize32 == 0xffff_ffff { csize = z.uint64LE() ?? csize }
            if local32 == 0xffff_ffff { local = z.uint64LE() ?? local }
        }
        guard usize < UInt64(Int.max), csize < UInt64(Int.max), local < UInt64(file.size) else {
            throw CkptError(
                .outOfBounds, file: file.path, tensor: name, "member sizes or offset lie past the end of the archive")
        }
        var l = ByteReader(file.bytes, offset: Int(local))
        guard l.uint32LE() == 0x0403_4b50, l.seek(to: Int(local) + 26), let ln = l.uint16LE(), let le = l.uint16LE(),
            let localName = l.bytes(Int(ln))
        else {
            throw CkptError(.malformed, file: file.path, tensor: name, "local file header is missing or truncated")
        }
        guard localName.elementsEqual(nameBytes) else {
            throw CkptError(.malformed, file: file.path, tensor: name, "local file header names another member")
        }
        return Member(
            name: name, method: method, crc32: crc, compressedSize: Int(csize), uncompressedSize: Int(usize),
            dataOffset: Int(local) + 30 + Int(ln) + Int(le))
    }
}
