import CkptCore
import CkptMappings

/// `convert`: plan the conversion, check the model's shapes when the target layout is one a model
/// is built from (tf, keras, hf — the checks `forward` makes; tensors kept with
/// `--allow-unmapped` are not the model's and not checked), and write. Here rather than in
/// CkptMappings because the check is the model's.
public enum ConvertJob {
    public static func run(
        _ setup: ConversionSetup, sourcePath: String, to output: String, adjust: (inout WriteOptions) -> Void,
        progress: ((Int, Int, String) -> Void)? = nil
    ) throws -> ConversionResult {
        if setup.plan.targetLayout != .native { _ = try ModelGeometry(setup: setup, complete: false) }
        var write = try setup.standardWriteOptions(sourcePath: sourcePath)
        adjust(&write)
        return try Converter.run(setup.plan, source: setup.source, to: output, options: write, progress: progress)
    }
}
