import CkptCore

/// Reader of the immutable sorted table (LevelDB's SSTable, as TensorFlow's `tsl/lib/io/table`
/// writes it) that a tensor bundle's `.index` file is.
///
/// Layout: data blocks, a metaindex block, an index block, then a 48-byte footer. Each block is
/// followed by a 5-byte trailer: a compression type byte and the masked CRC32C of the block and
/// that byte. Inside a block, keys share prefixes with their predecessor and restart points
/// (full keys) are listed at the end.
struct SSTable {
    /// Footer: two varint64 block handles padded to 40 bytes, then the magic number.
    static let footerLength = 48
    static let magic: UInt64 = 0xdb47_7524_8b80_fb57
    static let trailerLength = 5

    struct Entry {
        let key: [UInt8]
        let value: UnsafeRawBufferPointer
    }

    let file: MappedFile
    /// Every key/value pair of every data block, in key order. Values point into `file`.
    let entries: [Entry]

    init(file: MappedFile) throws {
        self.file = file
        guard file.size >= Self.footerLength else {
            throw CkptError(
                .truncated, file: file.path,
                "index is \(file.size) bytes, shorter than the \(Self.footerLength)-byte table footer")
        }
        var footer = ByteReader(file.bytes, offset: file.size - Self.footerLength)
        guard let metaindex = Self.blockHandle(&footer, file), let index = Self.blockHandle(&footer, file) else {
            throw CkptError(.malformed, file: file.path, "table footer holds no valid block handles")
        }
        var magicReader = ByteReader(file.bytes, offset: file.size - 8)
        guard magicReader.uint64LE() == Self.magic else {
            throw CkptError(
                .badMagic, file: file.path,
                "not a TensorFlow checkpoint index: table magic number missing at the end of the file")
        }
        // The metaindex holds nothing TensorFlow uses, but its checksum is verified like any block's.
        _ = try Self.readBlock(metaindex, in: file, what: "metaindex block")
        let indexEntries = try Self.readBlock(index, in: file, what: "index block")
        var all: [Entry] = []
        for ie in indexEntries {
            var r = ByteReader(ie.value)
            guard let handle = Self.blockHandle(&r, file) else {
                throw CkptError(.malformed, file: file.path, "index block entry holds no valid block handle")
            }
            let block = try Self.readBlock(handle, in: file, what: "data block at offset \(handle.offset)")
            for e in block {
                if let last = all.last, !last.key.lexicographicallyPrecedes(e.key) {
                    throw CkptError(.malformed, file: file.path, "table keys out of order")
                }
                all.append(e)
            }
        }
        entries = all
    }

    struct BlockHandle {
        let offset: Int
        let size: Int
    }

    private static func blockHandle(_ r: inout ByteReader, _ file: MappedFile) -> BlockHandle? {
        guard let o = r.varint64(), let s = r.varint64(), o <= UInt64(Int.max), s <= UInt64(Int.max) else {
            return nil
        }
        return BlockHandle(offset: Int(o), size: Int(s))
    }

    /// Verifies a block's trailer and decodes its entries.
    private static func readBlock(_ h: BlockHandle, in file: MappedFile, what: String) throws -> [Entry] {
        let (withTrailer, overflow) = h.size.addingReportingOverflow(trailerLength)
        guard !overflow else { throw CkptError(.outOfBounds, file: file.path, "\(what): size overflows") }
        let region: UnsafeRawBufferPointer
        do {
            region = try file.slice(offset: h.offset, count: withTrailer)
        } catch let e as CkptError {
            throw CkptError(.truncated, file: file.path, "\(what): \(e.detail)")
        }
        let contents = UnsafeRawBufferPointer(rebasing: region[0..<h.size])
        let type = region[h.size]
        var tr = ByteReader(region, offset: h.size + 1)
        let stored = Checksum.unmask(tr.uint32LE()!)
        let actual = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: region[0...h.size]))
        guard stored == actual else {
            throw CkptError(
                .checksumMismatch, file: file.path,
                "\(what): CRC32C mismatch (stored \(hex(stored)), computed \(hex(actual)))")
        }
        switch type {
        case 0: break
        case 1:
            throw CkptError(
                .unsupported, file: file.path,
                "\(what) is snappy-compressed; ckpt reads uncompressed indexes only (as TensorFlow writes them)")
        default:
            throw CkptError(.unsupported, file: file.path, "\(what) has unknown compression type \(type)")
        }
        return try decodeBlock(contents, file: file, what: what)
    }

    private static func decodeBlock(_ b: UnsafeRawBufferPointer, file: MappedFile, what: String) throws -> [Entry] {
        func bad(_ why: String) -> CkptError { CkptError(.malformed, file: file.path, "\(what): \(why)") }
        guard b.count >= 4 else { throw bad("shorter than its restart count") }
        var tail = ByteReader(b, offset: b.count - 4)
        let numRestarts = Int(tail.uint32LE()!)
        let (restartBytes, o1) = numRestarts.multipliedReportingOverflow(by: 4)
        guard !o1, restartBytes <= b.count - 4 else { throw bad("restart array larger than the block") }
        let limit = b.count - 4 - restartBytes
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: b[0..<limit]))
        var entries: [Entry] = []
        var key: [UInt8] = []
        while !r.isAtEnd {
            guard let shared = r.varint32(), let nonShared = r.varint32(), let valueLength = r.varint32() else {
                throw bad("entry header is not three varints")
            }
            guard Int(shared) <= key.count else { throw bad("entry shares more key bytes than the previous key has") }
            guard let delta = r.bytes(Int(nonShared)), let value = r.bytes(Int(valueLength)) else {
                throw bad("entry runs past the end of the block")
            }
            key.removeSubrange(Int(shared)...)
            key.append(contentsOf: delta)
            entries.append(Entry(key: key, value: value))
        }
        return entries
    }
}
