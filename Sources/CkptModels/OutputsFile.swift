import CkptCore
import CkptFormats
import CkptMappings

/// Writes forward outputs as an `.npz` through the npz sink and the atomic output every writer
/// uses: never over an input, an existing file only with `force` and only when ckpt wrote it.
public enum OutputsFile {
    /// The checks, alone: run them before the forward pass so a refused output costs nothing.
    public static func check(_ path: String, force: Bool, readFiles: [String], readFolders: [String]) throws {
        try OutputSafety.check(output: path, readFiles: readFiles, readFolders: readFolders)
        try AtomicOutput.checkReplaceable(file: path, force: force, isOwn: NPZWriter.isCkptOutput)
    }

    /// `inputs`: the ids the pass was fed (`tokens`, `segments`, `decoder_tokens`), stored as int64
    /// beside the outputs.
    public static func write(
        _ outputs: ForwardOutputs, inputs: [(name: String, ids: [Int])] = [], to path: String, force: Bool,
        readFiles: [String], readFolders: [String]
    ) throws {
        try check(path, force: force, readFiles: readFiles, readFolders: readFolders)
        let output = try AtomicOutput(file: path, force: force, isOwn: NPZWriter.isCkptOutput)
        do {
            let sink = try NPZSink(path: output.workPath)
            for a in outputs.arrays {
                try sink.begin(SinkTensor(name: a.name, dtype: .float32, shape: a.shape))
                try a.values.withUnsafeBytes { try sink.append($0) }
            }
            for (name, ids) in inputs {
                try sink.begin(SinkTensor(name: name, dtype: .int64, shape: [ids.count]))
                try ids.map { Int64($0).littleEndian }.withUnsafeBytes { try sink.append($0) }
            }
            try sink.finish()
            try output.commit()
        } catch let error as CkptError where error.file == output.workPath {
            throw CkptError(error.kind, file: path, tensor: error.tensor, error.detail)
        }
    }
}

/// `forward`: the output checked before any work (it may not touch an input, nor replace what
/// ckpt did not write), the model loaded with its shapes checked, the pass run, the outputs
/// written as an `.npz` when asked.
public enum ForwardJob {
    public static func run(
        _ setup: ConversionSetup, request: ForwardRequest, output: String?, force: Bool, readFiles: [String],
        readFolders: [String]
    ) throws -> ForwardOutputs {
        let readFiles = setup.source.files + [setup.config?.path].compactMap { $0 } + readFiles
        if let output { try OutputsFile.check(output, force: force, readFiles: readFiles, readFolders: readFolders) }
        let outputs = try ReferenceModel(setup: setup, for: request).run(request)
        if let output {
            let inputs =
                [("tokens", request.tokens)] + (request.segments.map { [("segments", $0)] } ?? [])
                + (request.decoderTokens.map { [("decoder_tokens", $0)] } ?? [])
            try OutputsFile.write(
                outputs, inputs: inputs.map { (name: $0.0, ids: $0.1) }, to: output, force: force, readFiles: readFiles,
                readFolders: readFolders)
        }
        return outputs
    }
}
