import ArgumentParser
import CkptCore
import CkptMappings

/// `--to --layout --dtype --max-shard-size --force`, shared by the commands that write a checkpoint.
struct OutputOptions: ParsableArguments {
    @Option(
        name: .customLong("to"),
        help: "Output folder (written under a temporary name, renamed into place when complete).",
        completion: .directory)
    var output: String

    @Option(
        help: ArgumentHelp(
            "Output layout: native, hf, tf, keras or gguf.",
            discussion: "native: safetensors, canonical names, TF orientation; hf: Hugging Face transformers; "
                + "tf: a TF checkpoint with the original release's names; keras: a bert4keras save_weights "
                + "HDF5 file, model.h5; gguf: model.gguf for llama.cpp (bert, gpt2, t5), vocabulary inside."))
    var layout: LayoutChoice = .native

    @Option(
        help: ArgumentHelp(
            "Cast floating-point tensors: keep, float32, float16, bfloat16 (round to nearest even), q8_0 (gguf).",
            discussion: "With --layout gguf the dtype is the file type, as llama.cpp's converter's --outtype: "
                + "matrices take it (q8_0: 32-element blocks, F16 where a row is not whole blocks); vectors, "
                + "norms, position and token-type tables stay float32."))
    var dtype: DTypeChoice = .keep

    @Option(help: "Split into shards of at most this size (e.g. 500MB, 2GiB), with model.safetensors.index.json.")
    var maxShardSize: String?

    @Flag(
        help: ArgumentHelp(
            "Replace an existing output folder that ckpt wrote before.",
            discussion: "Only the files a previous ckpt run wrote there (listed in its .ckpt-output marker) are "
                + "replaced; a folder holding anything else is refused, naming the file."))
    var force = false

    enum LayoutChoice: String, ExpressibleByArgument, CaseIterable { case native, hf, tf, keras, gguf }
    enum DTypeChoice: String, ExpressibleByArgument, CaseIterable {
        case keep, float32, float16, bfloat16
        case q8_0
    }

    func validate() throws {
        if layout == .keras && (dtype == .float16 || dtype == .bfloat16) {
            throw ValidationError(
                "--layout keras writes float32 weights (bert4keras builds its models in float32); "
                    + "--dtype \(dtype.rawValue) goes with native, hf or tf")
        }
        if dtype == .q8_0 && layout != .gguf {
            throw ValidationError("--dtype q8_0 is a GGUF type: it goes with --layout gguf")
        }
        if layout == .gguf && maxShardSize != nil {
            throw ValidationError("--layout gguf writes one file; --max-shard-size goes with native, hf or tf")
        }
        if let s = maxShardSize, ByteSize.parse(s) == nil {
            throw ValidationError("--max-shard-size '\(s)' is not a size (e.g. 500MB, 2GiB, 1000000)")
        }
    }

    var targetLayout: Layout { Layout(layout.rawValue) }
    var castTo: DType? { dtype == .keep ? nil : DType(rawValue: dtype.rawValue) }

    /// A plan's options with these (layout, cast).
    func planOptions() -> PlanOptions {
        var options = PlanOptions()
        options.targetLayout = targetLayout
        if layout == .gguf {
            options.ggufFileType = GGUFFileType(rawValue: dtype.rawValue)
        } else {
            options.dtype = castTo
        }
        return options
    }

    /// Sets these (force, shards) on a writer's options.
    func apply(to write: inout WriteOptions) {
        write.force = force
        write.maxShardSize = maxShardSize.flatMap(ByteSize.parse)
    }
}
