import CZlib
import CkptCore

/// Raw-deflate compression (zip method 8) through zlib, at its fastest level: float32 values
/// barely compress (BERT-base's 128 × 768 hidden states: 7.1 % smaller at level 1, 7.4 % at
/// numpy's level 6), and level 6 took 10 ms of a 0.15 s forward process.
enum Deflate {
    static func compress(_ src: [UInt8], file: String) throws -> [UInt8] {
        var stream = z_stream()
        var status = deflateInit2_(
            &stream, Z_BEST_SPEED, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw CkptError(.ioFailure, file: file, "zlib deflateInit2 failed (\(status))") }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(src.count))) + 16)
        let produced: Int = src.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { d in
                stream.next_in = UnsafeMutablePointer(mutating: s.baseAddress?.assumingMemoryBound(to: UInt8.self))
                stream.avail_in = UInt32(src.count)
                stream.next_out = d.baseAddress!.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(d.count)
                status = deflate(&stream, Z_FINISH)
                return d.count - Int(stream.avail_out)
            }
        }
        guard status == Z_STREAM_END else { throw CkptError(.ioFailure, file: file, "zlib deflate failed (\(status))") }
        return Array(out[..<produced])
    }
}
