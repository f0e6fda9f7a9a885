import CkptCore
import Foundation

/// The bert4keras call that builds the model a `tf` or `keras` conversion wrote, with the heads
/// the checkpoint holds, printed after the conversion so the user can paste it.
public enum Bert4kerasCall {
    /// Native name prefixes of the heads and the `build_transformer_model` flag each needs.
    static let headFlags: [(prefix: String, flag: String)] = [
        ("pooler.", "with_pool"), ("heads.nsp.", "with_nsp"), ("heads.mlm.", "with_mlm"),
        ("heads.discriminator.", "with_discriminator"),
    ]

    /// The Python line(s), or nil for another layout. `files` are the output's file names.
    public static func text(_ plan: ConversionPlan, output: String, files: [String]) -> String? {
        let natives = plan.outputs.compactMap(\.nativeName)
        let flags = headFlags.filter { h in natives.contains { $0.hasPrefix(h.prefix) } }.map { "\($0.flag)=True" }
        let config = quoted(FileSystem.join(output, "config.json"))
        // An encoder-decoder file without a decoder (T5EncoderModel) is bert4keras' `t5.1.1_encoder`.
        let encoderOnly = plan.family.hasPrefix("t5") && !natives.contains { $0.hasPrefix("decoder.") }
        let model = "model='\(plan.family)\(encoderOnly ? "_encoder" : "")'"
        switch plan.targetLayout {
        case .tf:
            let prefix = files.first { $0.hasSuffix(".index") }.map { String($0.dropLast(".index".count)) }
            let checkpoint = quoted(FileSystem.join(output, prefix ?? "model.ckpt"))
            return "build_transformer_model(" + ([config, checkpoint, model] + flags).joined(separator: ", ") + ")"
        case .keras:
            let weights = quoted(FileSystem.join(output, files.first { $0.hasSuffix(".h5") } ?? "model.weights.h5"))
            return "model = build_transformer_model(" + ([config, model] + flags).joined(separator: ", ")
                + "); model.load_weights(\(weights))"
        default:
            return nil
        }
    }

    /// What bert4keras cannot take from a transformers config, said before the user finds out:
    /// it builds its norms with the family's own epsilon, whatever `layer_norm_eps` says.
    public static func notes(_ setup: ConversionSetup) -> [String] {
        guard [.tf, .keras].contains(setup.plan.targetLayout), let spec = setup.table.forward,
            let eps = ArchitectureSpec.configuredEpsilon(setup.config)
        else { return [] }
        // Epsilons at or below 1e-5 barely move a norm of unit-scale activations (transformers'
        // 1e-12 against bert4keras' 1e-7 for ALBERT differs by < 1e-6): only a real change is said.
        let larger = max(Float(eps), spec.epsilon)
        guard larger > 1e-5, abs(Float(eps) - spec.epsilon) > larger / 2 else { return [] }
        return [
            "the config's norm epsilon is \(eps); bert4keras builds \(setup.plan.family) with \(spec.epsilon), "
                + "so its outputs will differ from transformers' (ckpt forward uses \(eps))"
        ]
    }

    static func quoted(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
