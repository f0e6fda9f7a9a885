#!/usr/bin/env python3
"""Writes the benchmark checkpoints of bench/run.sh with TensorFlow's own Saver (never committed).

    python3 bench/make_checkpoints.py base  DIR   # BERT-base + adam_m/adam_v slots, ~1.3 GB
    python3 bench/make_checkpoints.py large DIR   # 24 layers, hidden 2048, no slots, ~5.1 GB

DIR receives bert_model.ckpt.{index,data-00000-of-00001}, the `checkpoint` state file,
bert_config.json and vocab.txt (21128 distinct tokens, [PAD] [UNK] [CLS] [SEP] [MASK] first).
A file DIR/.complete is written last: bench/run.sh regenerates a checkpoint only when it is
missing.

- base: the variables of Fixtures/make_bert_base.py (12 layers, hidden 768, 12 heads,
  intermediate 3072, vocab 21128, pooler, NSP and MLM heads: 102.9M float32 values), each with
  the `NAME/adam_m` and `NAME/adam_v` slots Google's AdamWeightDecayOptimizer adds, plus the int64
  `global_step`, like a checkpoint saved by run_classifier.py / run_pretraining.py: 308.6M
  values, ~1.23 GB.
- large: the same names at 24 layers, hidden 2048, 16 heads, intermediate 8192 (1.26B float32
  values, ~5.05 GB; largest tensor the word embeddings, 21128 x 2048 = 173 MB) plus
  `global_step`; no optimizer slots (they would triple it).

Values are random (numpy, fixed seed): the benchmarks time bytes, not meaning. The variables are
created in graph mode, filled through a placeholder (var.load) and saved by
tf.compat.v1.train.Saver, as in Fixtures/make_bert_base.py. Uses the venv bootstrap of
Fixtures/generate.py (Fixtures/.venv or $CKPT_FIXTURE_VENV, created if missing) and re-executes
itself inside it.
"""

import json
import os
import sys
import time

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Fixtures")
sys.path.insert(0, FIXTURES)
import generate  # noqa: E402  (venv bootstrap + setup_tf)
import make_bert_base  # noqa: E402  (BERT-base config and Google's variable list)

PREFIX_NAME = "bert_model.ckpt"
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

CONFIGS = {
    "base": dict(make_bert_base.CONFIG),
    "large": dict(make_bert_base.CONFIG, hidden_size=2048, intermediate_size=8192,
                  num_attention_heads=16, num_hidden_layers=24, pooler_fc_size=2048,
                  pooler_num_attention_heads=16),
}
SLOTS = {"base": True, "large": False}


def vocab_tokens(n):
    """n distinct tokens: the five specials, then plain and '##' pieces."""
    out = list(SPECIALS)
    i = 0
    while len(out) < n:
        out.append(("##t%d" if i % 3 == 2 else "t%d") % i)
        i += 1
    return out


def main(argv):
    if len(argv) != 2 or argv[0] not in CONFIGS:
        sys.exit("usage: make_checkpoints.py base|large DIR")
    kind, directory = argv[0], os.path.abspath(argv[1])
    if os.path.commonpath([directory, FIXTURES]) == FIXTURES:
        sys.exit("make_checkpoints.py: refusing to write under Fixtures/ (output is not committed)")
    generate.ensure_venv()  # re-executes this script inside the venv if needed
    import numpy as np

    tf = generate.setup_tf(graph=True)
    config = CONFIGS[kind]
    generate.fresh_dir(directory)
    prefix = os.path.join(directory, PREFIX_NAME)
    t0 = time.time()
    rng = np.random.default_rng(20240601 if kind == "base" else 20240602)
    specs = [(n, s, tf.float32) for n, s in make_bert_base.bert_variables(config)]
    if SLOTS[kind]:
        specs += [(n + "/" + slot, s, tf.float32)
                  for n, s, _ in list(specs) for slot in ("adam_m", "adam_v")]
    total = 0
    with tf.Graph().as_default():
        variables = [
            tf.compat.v1.get_variable(name, shape=shape, dtype=dtype,
                                      initializer=tf.compat.v1.zeros_initializer())
            for name, shape, dtype in specs
        ]
        step = tf.compat.v1.get_variable("global_step", shape=[], dtype=tf.int64,
                                         initializer=tf.compat.v1.zeros_initializer())
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for var, (name, shape, _) in zip(variables, specs):
                value = rng.standard_normal(shape, dtype=np.float32)
                if name.endswith("/adam_v"):
                    np.square(value, out=value)
                    value *= 1e-6
                elif name.endswith("/adam_m"):
                    value *= 1e-3
                else:
                    value *= 0.02
                    if name.endswith("/gamma"):
                        value += 1.0
                var.load(value, sess)  # fed through a placeholder, not baked into the graph
                total += value.size
                del value
            step.load(100000, sess)
            saver = tf.compat.v1.train.Saver(variables + [step])
            saver.save(sess, prefix, write_meta_graph=False, write_state=True)
    with open(os.path.join(directory, "bert_config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(directory, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab_tokens(config["vocab_size"])) + "\n")
    size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory)
               if f.startswith(PREFIX_NAME + "."))
    with open(os.path.join(directory, ".complete"), "w") as f:
        f.write("%d\n" % size)
    print("make_checkpoints.py: %s: %d variables, %d float32 values, %.2f GB at %s (%.0f s)"
          % (kind, len(specs) + 1, total, size / 1e9, prefix, time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
