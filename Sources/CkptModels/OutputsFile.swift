import CkptCore
import CkptFormats

/// Writes forward outputs as an `.npz` through the npz sink and the atomic output every writer
/// uses: never over an input, an existing file only with `force` and only when ckpt wrote it.
public enum OutputsFile {
    /// The checks, alone: run them before the forward pass so a refused output costs nothing.
    public static func check(_ path: String, force: Bool, readFiles: [String], readFolders: [String]) throws {
        try OutputSafety.check(output: path, readFiles: readFiles, readFolders: readFolders)
        if FileSystem.exists(path) {
            guard force else {
                throw CkptError(.badUsage, file: path, "exists (--force replaces an .npz that ckpt wrote)")
            }
            guard NPZWriter.isCkptOutput(path) else {
                throw CkptError(
                    .badUsage, file: path, "--force replaces only an .npz that ckpt wrote, and this file is not one")
            }
        }
    }

    public static func write(
        _ outputs: ForwardOutputs, to path: String, force: Bool, readFiles: [String],
        readFolders: [String]
    ) throws {
        try check(path, force: force, readFiles: readFiles, readFolders: readFolders)
        let output = try AtomicOutput(file: path, force: force, isOwn: NPZWriter.isCkptOutput)
        do {
            let sink = try NPZSink(path: output.workPath)
            for a in outputs.arrays {
                try sink.begin(SinkTensor(name: a.name, dtype: .float32, shape: a.shape))
                try a.values.withUnsafeBytes { try sink.append($0) }
            }
            try sink.finish()
            try output.commit()
        } catch let error as CkptError where error.file == output.workPath {
            throw CkptError(error.kind, file: path, tensor: error.tensor, error.detail)
        }
    }
}
