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
    public enum Container: Sendable { case safetensors, tfBundle, kerasH5, gguf }

    public var container = Container.safetensors
    public var force = false
    /// Shard when the data exceeds this many bytes (nil: one file).
    public var maxShardSize: Int?
    public var metadata: [String: String] = [:]
    /// `config.json` to write beside the weights.
    public var config: [String: JSONValue]?
    /// A GGUF file's metadata (model, then tokenizer keys) and each tensor's ggml type (`gguf`).
    public var ggufMetadata: [(key: String, value: GGUFValue)] = []
    public var ggufTypes: [String: GGMLType] = [:]
    /// The Keras file's layers, in `model.layers` order (`kerasH5`).
    public var kerasLayers: [KerasLayerEntry] = []
    /// Files copied from beside the source (vocabularies).
    public var extraFiles: [String] = []
    /// Files written with the given contents (a pruned vocab.txt, keep_tokens.json); they take
    /// precedence over copied files of the same name.
    public var generatedFiles: [String: [UInt8]] = [:]
    /// Every file the command reads (the source's files, config, vocabularies, lists): the output
    /// may neither be one of them nor hold one (`OutputSafety`).
    public var readFiles: [String] = []
    /// Folders the user named as inputs: the output may not lie inside them.
    public var readFolders: [String] = []

    public init() {}
}

/// Runs a plan: streams every output tensor from the source into safetensors shard(s) or a TF
/// bundle in a temporary folder, adds the index, config and vocabulary, and renames the folder
/// into place.
public enum Converter {
    public static func run(
        _ plan: ConversionPlan, source: any TensorSource, to outputPath: String, options: WriteOptions,
        progress: ((Int, Int, String) -> Void)? = nil
    ) throws -> ConversionResult {
        try OutputSafety.check(
            output: outputPath, readFiles: source.files + options.readFiles + options.extraFiles,
            readFolders: options.readFolders)
        let start = DispatchTime.now().uptimeNanoseconds
        let folder = try AtomicOutput(path: outputPath, force: options.force)
        do {
            return try write(plan, source: source, folder: folder, options: options, start: start, progress: progress)
        } catch let error as CkptError {
            // Errors name the output as the user gave it, not the temporary folder it is built in.
            guard let file = error.file, file.hasPrefix(folder.workPath) else { throw error }
            throw CkptError(
                error.kind, file: folder.finalPath + file.dropFirst(folder.workPath.count), tensor: error.tensor,
                error.detail)
        }
    }

    private static func write(
        _ plan: ConversionPlan, source: any TensorSource, folder: AtomicOutput, options: WriteOptions,
        start: UInt64, progress: ((Int, Int, String) -> Void)?
    ) throws -> ConversionResult {
        let (copies, crcs) = kernelCopies(plan, source: source, options: options)
        let outputs = plan.outputs.sorted { a, b in
            switch (copies[a.name], copies[b.name]) {
            case let (x?, y?): return (x.path, x.offset) < (y.path, y.offset)
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.name < b.name
            }
        }
        let verifier = ChecksumVerifier()
        verifier.start(source: source, tensors: outputs.filter { copies[$0.name] != nil }.map(\.inputs[0].source.name))
        let tensors = outputs.map { SinkTensor(name: $0.name, dtype: $0.dtype, shape: $0.shape, crc32c: crcs[$0.name]) }
        let sink = try makeSink(options, folder: folder, tensors: tensors)
        let byName = Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0) })
        let segments = Segment.split(tensors, copies: copies, shardOf: sinkShard(options, tensors))
        let total = tensors.reduce(0) { $0 + sink.storedByteCount($1) }
        var done = 0, bytes = 0
        try writeSegments(segments, plan: byName, source: source, sink: sink, options: options) { t in
            done += 1
            bytes += sink.storedByteCount(t)
            progress?(bytes, total, t.name)
        }
        try sink.finish()
        var files = sink.files
        try writeSideFiles(options, folder: folder, files: &files)
        try folder.mark(files: files)
        try verifier.wait()
        try folder.commit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ConversionResult(
            outputPath: folder.finalPath, files: files, tensorsWritten: done, bytesWritten: bytes,
            dropped: plan.dropped, seconds: seconds)
    }

    /// When the output is the source's stored bytes end to end (every tensor passed through, one
    /// unbroken run per source file), they are copied by the kernel, in source order; their
    /// checksums are verified meanwhile on another thread, before anything is committed. A TF
    /// bundle also needs each copied tensor's CRC32C, which only a TF source stores. Otherwise
    /// nothing is: a run broken by dropped tensors (optimizer slots), by GGUF's 32-byte padding or
    /// by tensors built in between lands in another page phase than its source, which the kernel
    /// copies at half speed or less — measured slower than building the tensors in memory on every
    /// core and writing them from cache (BERT-base to native 0.20 → 0.16 s, the 5 GB case
    /// 5.5 → 3.1 s, with less CPU).
    static func kernelCopies(_ plan: ConversionPlan, source: any TensorSource, options: WriteOptions) -> (
        copies: [String: StoredRange], crcs: [String: UInt32]
    ) {
        var copies: [String: StoredRange] = [:]
        var crcs: [String: UInt32] = [:]
        for o in plan.outputs where o.isPassThrough {
            guard let range = source.storedRange(of: o.inputs[0].source) else { continue }
            if options.container == .tfBundle {
                guard let crc = source.storedCRC32C(of: o.inputs[0].source) else { continue }
                crcs[o.name] = crc
            }
            copies[o.name] = range
        }
        guard options.container != .gguf, copies.count == plan.outputs.count, isUnbroken(Array(copies.values)) else {
            return ([:], [:])
        }
        return (copies, crcs)
    }

    /// Whether the ranges tile each of their files' spans with no gap.
    static func isUnbroken(_ ranges: [StoredRange]) -> Bool {
        Dictionary(grouping: ranges, by: \.path).values.allSatisfy { file in
            let sorted = file.sorted { $0.offset < $1.offset }
            return zip(sorted, sorted.dropFirst()).allSatisfy { $0.offset + $0.count == $1.offset }
        }
    }

    /// Writes the segments in order: kernel copies here, computed tensors from the producer
    /// threads (built ahead of the writer, on every core when the source reads concurrently), or
    /// here when HDF5 is involved (libhdf5 is not thread-safe). `wrote` is told each tensor once
    /// it is written.
    static func writeSegments(
        _ segments: [Segment], plan byName: [String: PlannedOutput], source: any TensorSource, sink: any TensorSink,
        options: WriteOptions, wrote: (SinkTensor) -> Void
    ) throws {
        let workers = source.readsConcurrently ? ProcessInfo.processInfo.activeProcessorCount : 1
        let pipeline =
            options.container == .kerasH5 || source.formatName == "keras_h5"
            ? nil : ProducerPipeline(workers: workers)
        pipeline?.start(
            segments.compactMap { if case .produce(let t) = $0 { return byName[t.name]! } else { return nil } },
            source: source)
        defer { pipeline?.finish() }
        for segment in segments {
            switch segment {
            case .copy(let range, let copied):
                try sink.appendCopy(range, tensors: copied)
            case .produce(let t):
                try sink.begin(t)
                if let pipeline {
                    try pipeline.next { try sink.append($0) }
                } else {
                    try TensorAssembly.produce(byName[t.name]!, from: source) { try sink.append($0) }
                }
            }
            segment.tensors.forEach(wrote)
        }
    }

    /// The sink of the options' container, told every tensor in write order.
    static func makeSink(_ options: WriteOptions, folder: AtomicOutput, tensors: [SinkTensor]) throws -> any TensorSink
    {
        switch options.container {
        case .safetensors:
            return SafetensorsSink(
                folder: folder.workPath, tensors: tensors, maxShardSize: options.maxShardSize,
                metadata: options.metadata)
        case .tfBundle:
            return try TFBundleSink(folder: folder.workPath, tensors: tensors, maxShardSize: options.maxShardSize)
        case .kerasH5: return try KerasH5Sink(folder: folder.workPath, layers: options.kerasLayers)
        case .gguf:
            return try GGUFSink(
                folder: folder.workPath, tensors: tensors, types: options.ggufTypes, metadata: options.ggufMetadata)
        }
    }

    /// Which shard each tensor goes to, so that one kernel copy never spans two files.
    static func sinkShard(_ options: WriteOptions, _ tensors: [SinkTensor]) -> [String: Int] {
        guard ![.kerasH5, .gguf].contains(options.container) else { return [:] }
        return ShardLayout(tensors, maxBytes: options.maxShardSize).shardOf
    }

    /// Tensors in write order: runs of copies that lie back to back in one source file and one
    /// output shard (one kernel copy each), and tensors built one at a time.
    enum Segment {
        case copy(StoredRange, [SinkTensor])
        case produce(SinkTensor)

        var tensors: [SinkTensor] {
            switch self {
            case .copy(_, let ts): return ts
            case .produce(let t): return [t]
            }
        }

        static func split(_ tensors: [SinkTensor], copies: [String: StoredRange], shardOf: [String: Int]) -> [Segment] {
            var out: [Segment] = []
            for t in tensors {
                guard let range = copies[t.name] else {
                    out.append(.produce(t))
                    continue
                }
                if case .copy(let r, let ts)? = out.last, r.path == range.path, r.offset + r.count == range.offset,
                    shardOf[ts[0].name] == shardOf[t.name]
                {
                    out[out.count - 1] = .copy(
                        StoredRange(path: r.path, offset: r.offset, count: r.count + range.count), ts + [t])
                } else {
                    out.append(.copy(range, [t]))
                }
            }
            return out
        }
    }

    /// config.json, generated files and copied vocabularies.
    private static func writeSideFiles(_ options: WriteOptions, folder: AtomicOutput, files: inout [String]) throws {
        if let config = options.config {
            try write(JSONDocument.bytes(JSONValue.object(config).foundationValue), to: folder.file("config.json"))
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
    public static let vocabularyNames = [
        "vocab.txt", "spiece.model", "sentencepiece.model", "vocab.json", "merges.txt",
        "encoder.json", "vocab.bpe", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json",
    ]
}
