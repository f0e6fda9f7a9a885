import CZlib
import CkptCore

/// Raw-deflate decompression (zip method 8) through zlib; the only file that calls zlib's stream API.
enum Inflate {
    /// Inflates `src` until `limit` output bytes are produced or the stream ends. Returns the output
    /// and whether the stream ended.
    static func inflate(_ src: UnsafeRawBufferPointer, limit: Int, file: String, member: String) throws -> (
        bytes: [UInt8], ended: Bool
    ) {
        var out = [UInt8](repeating: 0, count: limit)
        var stream = z_stream()
        var status = inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw CkptError(.ioFailure, file: file, tensor: member, "zlib inflateInit2 failed (\(status))")
        }
        defer { inflateEnd(&stream) }
        var produced = 0
        var consumed = 0
        var ended = false
        try out.withUnsafeMutableBytes { dst in
            // zlib counts in UInt32: feed and drain in chunks so members above 4 GiB work.
            while produced < limit {
                let inChunk = min(src.count - consumed, Int(UInt32.max))
                let outChunk = min(limit - produced, Int(UInt32.max))
                stream.next_in = UnsafeMutablePointer(
                    mutating: src.baseAddress?.assumingMemoryBound(to: UInt8.self).advanced(by: consumed))
                stream.avail_in = UInt32(inChunk)
                stream.next_out = dst.baseAddress!.assumingMemoryBound(to: UInt8.self).advanced(by: produced)
                stream.avail_out = UInt32(outChunk)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                consumed += inChunk - Int(stream.avail_in)
                produced += outChunk - Int(stream.avail_out)
                if status == Z_STREAM_END { ended = true; break }
                if status == Z_BUF_ERROR && stream.avail_in == 0 && inChunk == 0 {
                    throw CkptError(.truncated, file: file, tensor: member, "compressed data ends early")
                }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    throw CkptError(
                        .malformed, file: file, tensor: member, "corrupt deflate stream (zlib status \(status))")
                }
            }
        }
        if limit == 0 { return ([], false) }
        out.removeSubrange(produced...)
        return (out, ended)
    }
}
