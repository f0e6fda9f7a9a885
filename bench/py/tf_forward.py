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

With --paired-ckpt-bench PATH as well, it starts `PATH forward-serve PREFIX SEQ` (ckpt's pass in
a loaded model, one pass per request) and alternates the two pass by pass, N pairs, the order
flipping every pair, with a 50 ms pause before each pass (so that neither side's idle threads are
still spinning). The machine's speed drifts over minutes here; pairs 0.3 s apart see the same
machine. Prints steady_forward_seconds= (TF), paired_ckpt_forward_seconds= (ckpt), both medians,
and paired_ratio_seconds= (the median of the per-pair ratios ckpt / TF; named _seconds for the
harness's parser).
"""

import argparse
import os
import statistics
import subprocess
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
    p.add_argument("--paired-ckpt-bench")
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

        def tf_pass():
            t = time.perf_counter()
            model.predict_on_batch([ids, segments])
            return time.perf_counter() - t

        if not args.paired_ckpt_bench:
            times = [tf_pass() for _ in range(args.runs)]
            print("steady_forward_seconds=%.4f" % statistics.median(times))
            return
        server = subprocess.Popen([args.paired_ckpt_bench, "forward-serve", args.prefix, str(ids.shape[1])],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        if server.stdout.readline().strip() != "ready":
            sys.exit("tf_forward.py: %s forward-serve did not start" % args.paired_ckpt_bench)

        def ckpt_pass():
            server.stdin.write("run\n")
            server.stdin.flush()
            return float(server.stdout.readline())

        tf_times, ckpt_times = [], []
        for i in range(args.runs):
            for side in ((tf_pass, ckpt_pass) if i % 2 == 0 else (ckpt_pass, tf_pass)):
                time.sleep(0.05)
                (tf_times if side is tf_pass else ckpt_times).append(side())
        server.stdin.close()
        server.wait()
        print("steady_forward_seconds=%.4f" % statistics.median(tf_times))
        print("paired_ckpt_forward_seconds=%.4f" % statistics.median(ckpt_times))
        print("paired_ratio_seconds=%.4f" % statistics.median(c / t for c, t in zip(ckpt_times, tf_times)))


if __name__ == "__main__":
    main(sys.argv[1:])
