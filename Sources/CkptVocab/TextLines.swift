import CkptCore

/// The lines of a text file in batches, from a mapping of it: memory stays bounded by a batch, not
/// by the file. `\n` ends a line (a `\r` before it is dropped); a last line without one counts.
public enum TextLines {
    public static let batchSize = 4096

    public static func forEachBatch(_ path: String, _ body: ([String]) throws -> Void) throws {
        let file = try MappedFile(path: path)
        try withExtendedLifetime(file) {
            let bytes = file.bytes
            var batch: [String] = []
            batch.reserveCapacity(batchSize)
            var start = 0
            var i = 0
            while i <= bytes.count {
                guard i == bytes.count || bytes[i] == UInt8(ascii: "\n") else {
                    i += 1
                    continue
                }
                if i < bytes.count || start < i {
                    var end = i
                    if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                    batch.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
                    if batch.count == batchSize {
                        try body(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                i += 1
                start = i
            }
            if !batch.isEmpty { try body(batch) }
        }
    }
}
