#!/usr/bin/env python3
"""The Python pipeline for slimming a BERT vocabulary (bert4keras' keep_tokens) into safetensors.

    python prune_safetensors.py PREFIX VOCAB KEEP_TOKENS OUTDIR

Reads the vocabulary and the tokens to keep (one per line, in the new order), then
tf.train.load_checkpoint + get_tensor for every variable except the optimizer state; the token
embeddings and the MLM output bias keep only the chosen rows (numpy fancy indexing, as
bert4keras' keep_tokens does at load time); safetensors.numpy.save_file into
OUTDIR/model.safetensors, the new vocab.txt beside it. The same work as ckpt prune --layout
native. Timed as a whole process; prints pipeline_seconds= (without the imports).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.quiet_tf()
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

VOCAB_AXIS = ("bert/embeddings/word_embeddings", "cls/predictions/output_bias")


def main(prefix, vocab_path, keep_path, outdir):
    start = time.perf_counter()
    with open(vocab_path, encoding="utf-8") as f:
        index = {tok: i for i, tok in enumerate(line.rstrip("\n") for line in f)}
    with open(keep_path, encoding="utf-8") as f:
        keep_tokens = [line.rstrip("\n") for line in f if line.strip()]
    keep = np.array([index[t] for t in keep_tokens], np.int64)
    reader = tf.train.load_checkpoint(prefix)
    tensors = {}
    for name in sorted(reader.get_variable_to_shape_map()):
        if common.is_optimizer_state(name):
            continue
        value = reader.get_tensor(name)
        tensors[name] = value[keep] if name in VOCAB_AXIS else value
    os.makedirs(outdir, exist_ok=True)
    save_file(tensors, os.path.join(outdir, "model.safetensors"), metadata={"format": "np"})
    with open(os.path.join(outdir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(keep_tokens) + "\n")
    common.report(start)


if __name__ == "__main__":
    main(*sys.argv[1:5])
