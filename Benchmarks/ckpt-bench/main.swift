import CkptCore
import CkptFormats
import CkptMappings
import CkptModels
import Foundation

// Release-build throughput benchmarks (swift run -c release ckpt-bench ...):
//   ckpt-bench crc32c [MiB]        CRC32C over an in-memory buffer, GB/s
//   ckpt-bench read CHECKPOINT     every tensor read and checksum-verified, GB/s
//   ckpt-bench forward CHECKPOINT [SEQ]        encoder pass, median of 10
//   ckpt-bench forward-serve CHECKPOINT [SEQ]  one pass per "run" line on stdin (paired timing)
// Timings are wall-clock over the work only, best of 5 runs.

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func best(_ runs: Int = 5, _ body: () throws -> Void) rethrows -> Double {
    var b = Double.infinity
    for _ in 0..<runs { b = min(b, try seconds(body)) }
    return b
}

let args = CommandLine.arguments.dropFirst()

/// The model of `ckpt-bench forward[-serve] CHECKPOINT [SEQ]` and its one encoder request: SEQ
/// (default 128) token ids without padding, the second half in segment 1.
func forwardBench(_ usage: String) throws -> (family: String, seq: Int, model: ReferenceModel, request: ForwardRequest)
{
    guard let path = args.dropFirst().first else { fatalError("usage: ckpt-bench \(usage) CHECKPOINT [SEQ]") }
    let seq = Int(args.dropFirst(2).first ?? "128") ?? 128
    let setup = try ConversionSetup(sourcePath: path, model: nil, configPath: nil, options: PlanOptions())
    let tokens = (0..<seq).map { 1 + ($0 * 7919) % 21000 }
    return (
        setup.plan.family, seq, try ReferenceModel(setup: setup),
        ForwardRequest(tokens: tokens, segments: (0..<seq).map { $0 < seq / 2 ? 0 : 1 })
    )
}
switch args.first {
case "crc32c":
    let mib = Int(args.dropFirst().first ?? "256") ?? 256
    let buffer = [UInt8](unsafeUninitializedCapacity: mib << 20) { p, n in
        for i in 0..<(mib << 20) { p[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        n = mib << 20
    }
    var sink: UInt32 = 0
    let t = buffer.withUnsafeBytes { b in best { sink ^= Checksum.crc32c(b) } }
    print(
        String(
            format: "crc32c: %d MiB in %.4f s = %.2f GB/s (hardware: %@, checksum %08x)",
            mib, t, Double(mib << 20) / t / 1e9, Checksum.crc32cIsHardware ? "yes" : "no", sink))
case "read":
    guard let path = args.dropFirst().first else { fatalError("usage: ckpt-bench read CHECKPOINT") }
    let source = try CheckpointOpener.open(path)
    let total = source.tensors.filter { $0.dtype != .string }.reduce(0) { $0 + $1.byteCount }
    var sink = 0
    let t = try best(3) {
        for tensor in source.tensors where tensor.dtype != .string {
            sink &+= try source.withBytes(of: tensor) { Int($0.first ?? 0) }
        }
    }
    print(
        String(
            format: "read: %d tensors, %.1f MiB in %.4f s = %.2f GB/s (%d)", source.tensors.count,
            Double(total) / 1048576, t, Double(total) / t / 1e9, sink))
case "forward":
    // ckpt-bench forward CHECKPOINT [SEQ]: encoder forward of one sequence, median of 10 after a warm-up.
    let (family, seq, model, request) = try forwardBench("forward")
    _ = try model.run(request)
    var times: [Double] = []
    for _ in 0..<10 { times.append(try seconds { _ = try model.run(request) }) }
    times.sort()
    print(
        String(
            format: "forward: %@ seq %d: median %.1f ms (min %.1f, max %.1f) over %d runs", family, seq,
            times[times.count / 2] * 1000, times[0] * 1000, times[times.count - 1] * 1000, times.count))
case "forward-serve":
    // ckpt-bench forward-serve CHECKPOINT [SEQ]: loads the model and runs one encoder pass per
    // "run" line on stdin, answering each with its seconds; for bench/py/tf_forward.py
    // --paired-ckpt-bench, which alternates these passes with TensorFlow's pass by pass.
    let (_, _, model, request) = try forwardBench("forward-serve")
    for _ in 0..<2 { _ = try model.run(request) }
    // Unbuffered answers: the other side waits for each line.
    func answer(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    answer("ready")
    while let line = readLine(), line == "run" {
        let t = try seconds { _ = try model.run(request) }
        answer(String(format: "%.6f", t))
    }
case "tables":
    // ckpt-bench tables: time to decode the compiled-in family tables (paid once per process).
    let t = seconds { _ = MappingTable.builtIn.count }
    print(String(format: "tables: %d decoded in %.2f ms", MappingTable.builtIn.count, t * 1000))
    let names = (0..<12).flatMap { i in (0..<17).map { "bert/encoder/layer_\(i)/part_\($0)/kernel" } }
    let d = seconds { _ = ArchitectureDetector().detect(names) }
    print(String(format: "detection over %d names: %.2f ms", names.count, d * 1000))
default:
    print(
        "usage: ckpt-bench crc32c [MiB] | ckpt-bench read CHECKPOINT | ckpt-bench forward CHECKPOINT [SEQ] | "
            + "ckpt-bench forward-serve CHECKPOINT [SEQ] | ckpt-bench tables")
}
