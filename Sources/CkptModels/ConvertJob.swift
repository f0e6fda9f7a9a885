import CkptCore
import CkptMappings

/// `convert`: plan the conversion, check the model's shapes when the target layout is one a model
/// is built from (tf, keras, hf — the checks `forward` makes; tensors kept with
/// `--allow-unmapped` are not the model's and not checked), and write. Here rather than in
/// CkptMappings because the check is the model's.
public enum ConvertJob {
    /// The model's shape checks for a target layout a model is built from (not `native`, which
    /// is a rename); what it lacks is not checked (`complete: false`).
    public static func checkShapes(_ setup: ConversionSetup) throws {
        if setup.plan.targetLayout != .native { _ = try ModelGeometry(setup: setup, complete: false) }
    }

    public static func run(
        _ setup: ConversionSetup, sourcePath: String, to output: String, adjust: (inout WriteOptions) -> Void,
        progress: ((Int, Int, String) -> Void)? = nil
    ) throws -> ConversionResult {
        try checkShapes(setup)
        var write = try setup.standardWriteOptions(sourcePath: sourcePath)
        adjust(&write)
        return try Converter.run(setup.plan, source: setup.source, to: output, options: write, progress: progress)
    }
}
