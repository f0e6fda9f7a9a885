import CkptCore

/// Writes the sorted table of a bundle's `.index` as TensorFlow's table_builder.cc does: data
/// blocks of prefix-compressed keys with a restart point every 16 entries, each block followed
/// by its type byte (0: uncompressed) and masked CRC32C, an empty metaindex block, an index block
/// (the last key of each data block → its handle), and the 48-byte footer.
struct SSTableWriter {
    static let blockSize = 4096
    static let restartInterval = 16

    /// `entries` must be sorted by key (bytewise) with no duplicates.
    static func table(_ entries: [(key: [UInt8], value: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var index: [(key: [UInt8], value: [UInt8])] = []
        var block = BlockBuilder()
        for (key, value) in entries {
            block.add(key, value)
            if block.size >= blockSize {
                index.append((key, handle(writeBlock(block.finish(), into: &out))))
                block = BlockBuilder()
            }
        }
        if !block.isEmpty, let last = entries.last {
            index.append((last.key, handle(writeBlock(block.finish(), into: &out))))
        }
        let metaindex = writeBlock(BlockBuilder().finish(), into: &out)
        var indexBlock = BlockBuilder()
        for (key, value) in index { indexBlock.add(key, value) }
        let indexHandle = writeBlock(indexBlock.finish(), into: &out)
        var footer = handle(metaindex) + handle(indexHandle)
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        withUnsafeBytes(of: SSTable.magic.littleEndian) { footer += $0 }
        return out + footer
    }

    /// Appends a block and its trailer; returns its (offset, size).
    static func writeBlock(_ contents: [UInt8], into out: inout [UInt8]) -> (Int, Int) {
        let offset = out.count
        out += contents
        out.append(0)  // kNoCompression
        let crc = Checksum.mask(Checksum.crc32c(Array(out[offset...])))
        withUnsafeBytes(of: crc.littleEndian) { out += $0 }
        return (offset, contents.count)
    }

    static func handle(_ h: (Int, Int)) -> [UInt8] { varint(UInt64(h.0)) + varint(UInt64(h.1)) }

    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v
        var out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }

    struct BlockBuilder {
        var buffer: [UInt8] = []
        var restarts: [UInt32] = [0]
        var counter = 0
        var last: [UInt8] = []
        var isEmpty = true

        var size: Int { buffer.count + restarts.count * 4 + 4 }

        mutating func add(_ key: [UInt8], _ value: [UInt8]) {
            var shared = 0
            if counter < SSTableWriter.restartInterval {
                while shared < min(last.count, key.count) && last[shared] == key[shared] { shared += 1 }
            } else {
                restarts.append(UInt32(buffer.count))
                counter = 0
            }
            buffer +=
                SSTableWriter.varint(UInt64(shared)) + SSTableWriter.varint(UInt64(key.count - shared))
                + SSTableWriter.varint(UInt64(value.count))
            buffer += key[shared...]
            buffer += value
            last = key
            counter += 1
            isEmpty = false
        }

        func finish() -> [UInt8] {
            var out = buffer
            for r in restarts { withUnsafeBytes(of: r.littleEndian) { out += $0 } }
            withUnsafeBytes(of: UInt32(restarts.count).littleEndian) { out += $0 }
            return out
        }
    }
}
