#!/usr/bin/env python3
"""The Python pipeline a user runs today to turn a TF checkpoint into safetensors.

    python convert_safetensors.py PREFIX OUTDIR

tf.train.load_checkpoint + reader.get_tensor for every variable except the optimizer slots and
global_step (which ckpt convert drops by default too), then safetensors.numpy.save_file into
OUTDIR/model.safetensors. Names are kept (ckpt's native layout renames them; the cost of renaming
is nil). Timed by bench/bench.py as a whole process (interpreter start-up and imports included);
prints pipeline_seconds= (the same work without the imports).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.quiet_tf()
import numpy  # noqa: E402,F401
import tensorflow as tf  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402


def main(prefix, outdir):
    start = time.perf_counter()
    reader = tf.train.load_checkpoint(prefix)
    tensors = {}
    for name in sorted(reader.get_variable_to_shape_map()):
        if not common.is_optimizer_state(name):
            tensors[name] = reader.get_tensor(name)
    os.makedirs(outdir, exist_ok=True)
    save_file(tensors, os.path.join(outdir, "model.safetensors"), metadata={"format": "np"})
    common.report(start)


if __name__ == "__main__":
    main(*sys.argv[1:3])
