import CkptCore
import CkptFormats
import Foundation

/// What `convert` did.
public struct ConversionResult: Sendable {
    public let outputPath: String
    public let files: [String]
    public let tensorsWritten: Int
    public let bytesWritten: Int
    public let dropped: [DroppedTensor]
    public let seconds: Double
}

/// Options of the writing stage.
public struct WriteOptions: Sendable {
    /// The container written: safetensors (native and hf layouts) or a TF tensor bundle.
    public enum Container: Sendable { case safetensors, tfBundle }

    public var container = Container.safetensors
    public var force = false
    /// Shard when the data exceeds this many bytes (nil: one file).
    public var maxShardSize: Int?
    public var metadata: [String: String] = [:]
    /// `config.json` to write beside the weights.
    public var config: [String: JSONValue]?
    /// Files copied from beside the source (vocabularies).
    public var extraFiles: [String] = []
    /// Files written with the given contents (a pruned vocab.txt, keep_tokens.json); they take
    /// precedence over copied files of the same name.
    public var generatedFiles: [String: [UInt8]] = [:]

    public init() {}
}

/// Runs a plan: streams every output tensor from the source into safetensors shard(s) in a
/// temporary folder, adds the index, config and vocabulary, and renames the folder into place.
public enum Converter {
    public static func run(_ plan: ConversionPlan, source: any TensorSource, to outputPath: String, options: WriteOptions,
                           progress: ((Int, Int) -> Void)? = nil) throws -> ConversionResult {
        let start = DispatchTime.now().uptimeNanoseconds
        let folder = try AtomicDirectory(path: outputPath, force: options.force)
        let verifier = ChecksumVerifier()
        if options.container == .tfBundle {
            return try runBundle(plan, source: source, folder: folder, options: options, start: start, progress: progress)
        }
        // Tensors whose stored bytes are the output bytes are copied by the kernel, in the order
        // they lie in the source so that neighbours merge into one copy; their checksums are
        // verified meanwhile on another thread, before anything is committed.
        var copies: [String: StoredRange] = [:]
        for o in plan.outputs where o.isPassThrough {
            copies[o.name] = source.storedRange(of: o.inputs[0].source)
        }
        let outputs = plan.outputs.sorted { a, b in
            switch (copies[a.name], copies[b.name]) {
            case let (x?, y?): return (x.path, x.offset) < (y.path, y.offset)
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.name < b.name
            }
        }
        verifier.start(path: source.path, tensors: outputs.filter { copies[$0.name] != nil }.map(\.inputs[0].source.name))
        let entries = outputs.map { SafetensorsEntry(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        let shards = SafetensorsWriter.shards(entries, maxBytes: options.maxShardSize)
        let byName = Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0) })
        var files: [String] = []
        var done = 0, bytes = 0
        let totalBytes = entries.reduce(0) { $0 + $1.byteCount }
        for (k, shard) in shards.enumerated() {
            let name = SafetensorsWriter.shardName(k, of: shards.count)
            let writer = try SafetensorsWriter(path: folder.file(name), entries: shard, metadata: options.metadata)
            var run: StoredRange?
            for e in shard {
                if let range = copies[e.name] {
                    if let r = run, r.path == range.path, r.offset + r.count == range.offset {
                        run = StoredRange(path: r.path, offset: r.offset, count: r.count + range.count)
                    } else {
                        if let r = run { try writer.append(r) }
                        run = range
                    }
                } else {
                    if let r = run { try writer.append(r) }
                    run = nil
                    try TensorAssembly.produce(byName[e.name]!, from: source) { try writer.append($0) }
                }
                done += 1
                bytes += e.byteCount
                progress?(bytes, totalBytes)
            }
            if let r = run { try writer.append(r) }
            try writer.finish()
            files.append(name)
        }
        if shards.count > 1 {
            try write(SafetensorsWriter.index(shards), to: folder.file("model.safetensors.index.json"))
            files.append("model.safetensors.index.json")
        }
        return try complete(plan, folder: folder, options: options, files: files, verifier: verifier, tensors: done, bytes: bytes, start: start)
    }

    /// A TF bundle: every tensor streamed into the data shard(s) with its CRC32C, then the index
    /// and the `checkpoint` state file (shards split like safetensors shards).
    private static func runBundle(_ plan: ConversionPlan, source: any TensorSource, folder: AtomicDirectory, options: WriteOptions,
                                  start: UInt64, progress: ((Int, Int) -> Void)?) throws -> ConversionResult {
        let outputs = plan.outputs.sorted { $0.name < $1.name }
        let entries = outputs.map { SafetensorsEntry(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        let shards = SafetensorsWriter.shards(entries, maxBytes: options.maxShardSize)
        let writer = try TFBundleWriter(prefix: folder.file("model.ckpt"), shards: shards.count)
        let byName = Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0) })
        // From a TF bundle, untouched tensors are copied by the kernel with their stored CRC32C,
        // verified against the source bytes on another thread before the folder is committed.
        var copies: [String: (StoredRange, UInt32)] = [:]
        for o in outputs where o.isPassThrough {
            if let r = source.storedRange(of: o.inputs[0].source), let crc = source.storedCRC32C(of: o.inputs[0].source) { copies[o.name] = (r, crc) }
        }
        let verifier = ChecksumVerifier()
        verifier.start(path: source.path, tensors: outputs.filter { copies[$0.name] != nil }.map(\.inputs[0].source.name))
        var done = 0, bytes = 0
        let total = entries.reduce(0) { $0 + $1.byteCount }
        for (k, shard) in shards.enumerated() {
            // Neighbouring copies merge into one kernel copy.
            var run: StoredRange?
            var runTensors: [(name: String, dtype: DType, shape: [Int], crc32c: UInt32)] = []
            func flush() throws {
                if let r = run { try writer.appendCopies(r, tensors: runTensors, shard: k) }
                run = nil
                runTensors = []
            }
            for e in shard {
                if let (range, crc) = copies[e.name] {
                    if let r = run, r.path == range.path, r.offset + r.count == range.offset {
                        run = StoredRange(path: r.path, offset: r.offset, count: r.count + range.count)
                    } else {
                        try flush()
                        run = range
                    }
                    runTensors.append((e.name, e.dtype, e.shape, crc))
                } else {
                    try flush()
                    try writer.begin(e.name, dtype: e.dtype, shape: e.shape, shard: k)
                    try TensorAssembly.produce(byName[e.name]!, from: source) { try writer.append($0) }
                }
                done += 1
                bytes += e.byteCount
                progress?(bytes, total)
            }
            try flush()
        }
        try writer.finish()
        var files = ["model.ckpt.index"] + (0..<shards.count).map { FileSystem.basename(BundlePath.dataFile("model.ckpt", shard: $0, of: shards.count)) }
        try write(TFBundleWriter.stateFile(prefixName: "model.ckpt"), to: folder.file("checkpoint"))
        files.append("checkpoint")
        return try complete(plan, folder: folder, options: options, files: files, verifier: verifier, tensors: done, bytes: bytes, start: start)
    }

    /// The end of every run: side files, the parallel checksum verification, the rename into place.
    private static func complete(_ plan: ConversionPlan, folder: AtomicDirectory, options: WriteOptions, files: [String],
                                 verifier: ChecksumVerifier, tensors: Int, bytes: Int, start: UInt64) throws -> ConversionResult {
        var files = files
        try writeSideFiles(options, folder: folder, files: &files)
        try verifier.wait()
        try folder.commit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ConversionResult(outputPath: folder.finalPath, files: files, tensorsWritten: tensors, bytesWritten: bytes,
                                dropped: plan.dropped, seconds: seconds)
    }

    /// config.json, generated files and copied vocabularies.
    private static func writeSideFiles(_ options: WriteOptions, folder: AtomicDirectory, files: inout [String]) throws {
        if let config = options.config {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try write(Array(try encoder.encode(JSONValue.object(config))) + [0x0a], to: folder.file("config.json"))
            files.append("config.json")
        }
        for (name, bytes) in options.generatedFiles.sorted(by: { $0.key < $1.key }) {
            try write(bytes, to: folder.file(name))
            files.append(name)
        }
        for path in options.extraFiles {
            let name = FileSystem.basename(path)
            guard !files.contains(name) else { continue }
            try write(try MappedFile.contents(of: path), to: folder.file(name))
            files.append(name)
        }
    }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        let f = try OutputFile(path: path)
        try f.write(bytes)
        try f.close()
    }

    /// Vocabulary files found beside a source, copied into the output.
    public static let vocabularyNames = ["vocab.txt", "spiece.model", "sentencepiece.model", "vocab.json", "merges.txt",
                                         "encoder.json", "vocab.bpe"]
}
