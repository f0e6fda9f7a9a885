#!/usr/bin/env python3
"""bert4keras on TensorFlow 2.15: the forward pass ckpt forward reproduces, on the same weights.

    python tf_forward.py PREFIX --tokens 2,5,... --segments 0,0,... [--output out.npz] [--runs N]

Builds build_transformer_model(bert_config.json beside PREFIX, PREFIX, model="bert",
application="encoder") (bert4keras loads the checkpoint with its own loader), runs one
model.predict on the sequence and writes the last hidden layer ([seq, hidden], batch axis
dropped) to --output with numpy.savez_compressed, as ckpt forward --output does. Timed by
bench/bench.py as a whole process; prints pipeline_seconds= (build + load + first forward,
imports excluded) and first_forward_seconds=.

With --runs N (N > 0) it then times N more model.predict_on_batch calls after 2 warm-up calls
and prints steady_forward_seconds= (their median): the per-pass cost once the model is loaded.
Graph mode, TensorFlow's default thread pools (all CPUs), oneDNN at TensorFlow's default.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "Fixtures"))
import common  # noqa: E402
import generate  # noqa: E402  (setup_tf: how bert4keras 0.11.5 runs on TF 2.15)

common.quiet_tf()
import numpy as np  # noqa: E402

tf = generate.setup_tf(graph=True)
from bert4keras.models import build_transformer_model  # noqa: E402


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("prefix")
    p.add_argument("--tokens", required=True)
    p.add_argument("--segments", required=True)
    p.add_argument("--output")
    p.add_argument("--runs", type=int, default=0)
    args = p.parse_args(argv)
    start = time.perf_counter()
    config = os.path.join(os.path.dirname(os.path.abspath(args.prefix)), "bert_config.json")
    model = build_transformer_model(config, checkpoint_path=args.prefix, model="bert",
                                    application="encoder")
    ids = np.array([int(t) for t in args.tokens.split(",")], np.int32)[None]
    segments = np.array([int(t) for t in args.segments.split(",")], np.int32)[None]
    t = time.perf_counter()
    hidden = model.predict([ids, segments], batch_size=1, verbose=0)
    first = time.perf_counter() - t
    if args.output:
        np.savez_compressed(args.output, hidden=hidden[0])
    common.report(start)
    print("first_forward_seconds=%.4f" % first)
    if args.runs > 0:
        for _ in range(2):
            model.predict_on_batch([ids, segments])
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            model.predict_on_batch([ids, segments])
            times.append(time.perf_counter() - t)
        print("steady_forward_seconds=%.4f" % statistics.median(times))


if __name__ == "__main__":
    main(sys.argv[1:])
