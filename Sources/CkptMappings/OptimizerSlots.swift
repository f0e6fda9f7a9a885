import CkptCore

/// Training state that a released checkpoint may still carry: optimizer slots and step counters.
/// `convert` drops them (and reports the bytes saved) unless asked to keep them.
public enum OptimizerSlots {
    /// Glob patterns of slot and counter names, with the optimizer or tool that leaves them.
    public static let patterns = [
        "*/adam_m", "*/adam_v",  // Google BERT/ALBERT/ELECTRA AdamWeightDecay, LAMB
        "*/Adam", "*/Adam_1", "beta1_power", "beta2_power",  // tf.compat.v1.train.AdamOptimizer
        "*/Momentum", "*/RMSProp", "*/RMSProp_1", "*/Adagrad", "*/Adafactor*", "*/adafactor*",
        "*_slot_*", "*/.OPTIMIZER_SLOT/*", "optimizer/*",  // mesh-tf, TF2 object checkpoints
        "global_step", "*/global_step", "save_counter/*", "step", "bad_steps", "good_steps", "loss_scale",
    ]

    public static func isSlot(_ name: String) -> Bool {
        patterns.contains { Glob.matches($0, name) }
    }
}
