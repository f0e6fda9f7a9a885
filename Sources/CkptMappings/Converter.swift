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
    public enum Container: Sendable { case safetensors, tfBundle, kerasH5 }

    public var container = Container.safetensors
    public var force = false
    /// Shard when the data exceeds this many bytes (nil: one file).
    public var maxShardSize: Int?
    public var metadata: [String: String] = [:]
    /// `config.json` to write beside the weights.
    public var config: [String: JSONValue]?
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
    public static func run(_ plan: ConversionPlan, source: any TensorSource, to outputPath: String, options: WriteOptions,
                           progress: ((Int, Int) -> Void)? = nil) throws -> ConversionResult {
        try OutputSafety.check(output: outputPath, readFiles: source.files + options.readFiles + options.extraFiles,
                               readFolders: options.readFolders)
        let start = DispatchTime.now().uptimeNanoseconds
        let folder = try AtomicDirectory(path: outputPath, force: options.force)
        do {
            return try write(plan, source: source, folder: folder, options: options, start: start, progress: progress)
        } catch let error as CkptError {
            // Errors name the output as the user gave it, not the temporary folder it is built in.
            guard let file = error.file, file.hasPrefix(folder.workPath) else { throw error }
            throw CkptError(error.kind, file: folder.finalPath + file.dropFirst(folder.workPath.count), tensor: error.tensor,
                            error.detail)
        }
    }

    private static func write(_ plan: ConversionPlan, source: any TensorSource, folder: AtomicDirectory, options: WriteOptions,
                              start: UInt64, progress: ((Int, Int) -> Void)?) throws -> ConversionResult {
        // Tensors whose stored bytes are the output bytes are copied by the kernel, in the order
        // they lie in the source so that neighbours merge into one copy; their checksums are
        // verified meanwhile on another thread, before anything is committed. A TF bundle also
        // needs each copied tensor's CRC32C, which only a TF source stores.
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
        let outputs = plan.outputs.sorted { a, b in
            switch (copies[a.name], copies[b.name]) {
            case let (x?, y?): return (x.path, x.offset) < (y.path, y.offset)
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.name < b.name
            }
        }
        let verifier = ChecksumVerifier()
        verifier.start(path: source.path, tensors: outputs.filter { copies[$0.name] != nil }.map(\.inputs[0].source.name))
        let entries = outputs.map { SafetensorsEntry(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        let shards = SafetensorsWriter.shards(entries, maxBytes: options.maxShardSize)
        let byName = Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0) })
        let total = entries.reduce(0) { $0 + $1.byteCount }
        var done = 0, bytes = 0
        func produce(_ e: SafetensorsEntry, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
            try TensorAssembly.produce(byName[e.name]!, from: source, into: sink)
        }
        func count(_ written: [SafetensorsEntry]) {
            for e in written {
                done += 1
                bytes += e.byteCount
                progress?(bytes, total)
            }
        }

        var files: [String] = []
        switch options.container {
        case .safetensors:
            for (k, shard) in shards.enumerated() {
                let name = SafetensorsWriter.shardName(k, of: shards.count)
                let segments = Segment.split(shard, copies: copies)
                var phase = 0
                if case .copy(let range, _)? = segments.first { phase = range.offset }
                let writer = try SafetensorsWriter(path: folder.file(name), entries: shard, metadata: options.metadata, dataPhase: phase)
                for segment in segments {
                    switch segment {
                    case .copy(let range, _): try writer.append(range)
                    case .produce(let e): try produce(e) { try writer.append($0) }
                    }
                    count(segment.entries)
                }
                try writer.finish()
                files.append(name)
            }
            if shards.count > 1 {
                try write(SafetensorsWriter.index(shards), to: folder.file("model.safetensors.index.json"))
                files.append("model.safetensors.index.json")
            }
        case .tfBundle:
            let writer = try TFBundleWriter(prefix: folder.file("model.ckpt"), shards: shards.count,
                                            sizes: shards.map { $0.reduce(0) { $0 + $1.byteCount } })
            for (k, shard) in shards.enumerated() {
                for segment in Segment.split(shard, copies: copies) {
                    switch segment {
                    case .copy(let range, let copied):
                        try writer.appendCopies(range, tensors: copied.map { ($0.name, $0.dtype, $0.shape, crcs[$0.name]!) }, shard: k)
                    case .produce(let e):
                        try writer.begin(e.name, dtype: e.dtype, shape: e.shape, shard: k)
                        try produce(e) { try writer.append($0) }
                    }
                    count(segment.entries)
                }
            }
            try writer.finish()
            files = ["model.ckpt.index"] + (0..<shards.count).map { FileSystem.basename(BundlePath.dataFile("model.ckpt", shard: $0, of: shards.count)) }
            try write(TFBundleWriter.stateFile(prefixName: "model.ckpt"), to: folder.file("checkpoint"))
            files.append("checkpoint")
        case .kerasH5:
            // libhdf5 lays out the file (groups, attributes, datasets with their space reserved);
            // the tensor bytes then go straight to their offsets, copied or streamed as above.
            let path = folder.file("model.h5")
            let offsets = try KerasH5Writer.create(path: path, layers: options.kerasLayers)
            let file = try OutputFile(existing: path)
            file.preallocate(FileSystem.size(path) ?? 0)  // libhdf5 leaves the reserved space a hole
            for e in entries {
                guard let offset = offsets[e.name] else {
                    throw CkptError(.malformed, file: path, tensor: e.name, "tensor has no layer in the Keras model")
                }
                try file.seek(to: offset)
                let start = file.bytesWritten
                if let range = copies[e.name] { try file.append(range) } else { try produce(e) { try file.write($0) } }
                guard file.bytesWritten - start == e.byteCount else {
                    throw CkptError(.sizeMismatch, file: path, tensor: e.name, "wrote \(file.bytesWritten - start) bytes, expected \(e.byteCount)")
                }
                count([e])
            }
            try file.close()
            files = ["model.h5"]
        }
        try writeSideFiles(options, folder: folder, files: &files)
        try folder.mark(files: files)
        try verifier.wait()
        try folder.commit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ConversionResult(outputPath: folder.finalPath, files: files, tensorsWritten: done, bytesWritten: bytes,
                                dropped: plan.dropped, seconds: seconds)
    }

    /// A shard's tensors in write order: runs of copies that lie back to back in one source file
    /// (one kernel copy each), and tensors built one at a time.
    enum Segment {
        case copy(StoredRange, [SafetensorsEntry])
        case produce(SafetensorsEntry)

        var entries: [SafetensorsEntry] {
            switch self {
            case .copy(_, let es): return es
            case .produce(let e): return [e]
            }
        }

        static func split(_ shard: [SafetensorsEntry], copies: [String: StoredRange]) -> [Segment] {
            var out: [Segment] = []
            for e in shard {
                guard let range = copies[e.name] else {
                    out.append(.produce(e))
                    continue
                }
                if case .copy(let r, let es)? = out.last, r.path == range.path, r.offset + r.count == range.offset {
                    out[out.count - 1] = .copy(StoredRange(path: r.path, offset: r.offset, count: r.count + range.count), es + [e])
                } else {
                    out.append(.copy(range, [e]))
                }
            }
            return out
        }
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
