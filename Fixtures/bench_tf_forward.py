#!/usr/bin/env python3
"""Times one forward pass of a BERT-base-sized bert4keras BERT on TensorFlow, as a reference for
ckpt's own forward pass. Not run in CI; writes nothing.

    python3 Fixtures/bench_tf_forward.py [CKPT_PREFIX] [--config bert_config.json]
                                         [--runs 20] [--warmup 3] [--seq 128] [--threads N]

- With CKPT_PREFIX (e.g. /tmp/ckpt-bench/bert_base/bert_model.ckpt from make_bert_base.py) the
  model is built from the bert_config.json beside it (or --config) and loaded from it with
  bert4keras' own loader (build_transformer_model(config, checkpoint_path, model="bert")).
- Without it: the same BERT-base sizes as make_bert_base.py (12 layers, hidden 768, 12 heads,
  intermediate 3072, vocab 21128, 512 positions) with fixed-seed random weights
  (generate.randomize_trainable).
- application "encoder", no heads: the output is the last hidden layer [1, seq, 768].
- Input: one sequence of --seq tokens (fixed ids: 101 first, 102 last, segment 0 then 1).
- --warmup untimed predict calls, then --runs timed `model.predict(x, batch_size=1)` calls;
  prints the median (and min/max) wall time per forward in ms, and the same for
  `model.predict_on_batch` (less Keras bookkeeping per call).
- Threads: intra-op and inter-op parallelism = --threads (default: all CPUs, os.cpu_count());
  the values the session really uses are printed. oneDNN is left at TensorFlow's default unless
  TF_ENABLE_ONEDNN_OPTS is set (generate.py sets it to 0 for the goldens; here the point is
  speed).

Uses the same virtual environment and bootstrap as generate.py (Fixtures/.venv or
$CKPT_FIXTURE_VENV) and re-executes itself inside it.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402  (venv bootstrap, setup_tf, randomize_trainable)
import make_bert_base  # noqa: E402  (the BERT-base config)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkpoint", nargs="?", help="TF checkpoint prefix (default: random weights)")
    p.add_argument("--config", help="bert_config.json (default: beside the checkpoint)")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    return p.parse_args(argv)


def _ms(samples):
    return "median %.1f ms (min %.1f, max %.1f, %d runs)" % (
        statistics.median(samples) * 1e3, min(samples) * 1e3, max(samples) * 1e3, len(samples))


def main(argv):
    args = parse(argv)
    generate.ensure_venv()  # re-executes this script inside the venv if needed
    import numpy as np

    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    tf = generate.setup_tf(graph=True)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from bert4keras.models import build_transformer_model

    if args.checkpoint:
        prefix = os.path.abspath(args.checkpoint)
        config_path = args.config or os.path.join(os.path.dirname(prefix), "bert_config.json")
        source = "loaded from %s (config %s)" % (prefix, config_path)
    else:
        prefix = None
        config_path = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                   "bench_tf_forward_config_%d.json" % os.getpid())
        with open(config_path, "w") as f:
            json.dump(make_bert_base.CONFIG, f)
        source = "random weights (fixed seed 20240601)"
    with open(config_path) as f:
        config = json.load(f)

    t0 = time.perf_counter()
    model = build_transformer_model(config_path, checkpoint_path=prefix, model="bert",
                                    application="encoder")
    if prefix is None:
        generate.randomize_trainable(model, seed=20240601)
        os.remove(config_path)
    build_s = time.perf_counter() - t0

    seq = args.seq
    rng = np.random.RandomState(0)
    ids = rng.randint(1, config["vocab_size"], size=seq).astype(np.int32)
    ids[0], ids[-1] = 101, 102
    segments = np.array([0] * (seq // 2) + [1] * (seq - seq // 2), np.int32)
    x = [ids[None], segments[None]]

    session = tf.compat.v1.keras.backend.get_session()
    cfg = session._config  # the ConfigProto the Keras session was created with
    for _ in range(args.warmup):
        out = model.predict(x, batch_size=1, verbose=0)
    timings = []
    for _ in range(args.runs):
        t = time.perf_counter()
        out = model.predict(x, batch_size=1, verbose=0)
        timings.append(time.perf_counter() - t)
    for _ in range(args.warmup):
        model.predict_on_batch(x)
    timings_pob = []
    for _ in range(args.runs):
        t = time.perf_counter()
        model.predict_on_batch(x)
        timings_pob.append(time.perf_counter() - t)

    n_params = sum(int(np.prod(w.shape)) for w in model.weights)
    print("bench_tf_forward.py: bert4keras BERT, %d layers, hidden %d, %d heads, intermediate %d, "
          "vocab %d, %.1fM parameters; %s; built in %.1f s"
          % (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"],
             config["intermediate_size"], config["vocab_size"], n_params / 1e6, source, build_s))
    print("  TensorFlow %s, graph mode, CPU; intra_op_parallelism_threads=%d, "
          "inter_op_parallelism_threads=%d (os.cpu_count()=%s); TF_ENABLE_ONEDNN_OPTS=%s"
          % (tf.__version__, cfg.intra_op_parallelism_threads, cfg.inter_op_parallelism_threads,
             os.cpu_count(), onednn if onednn is not None else "unset (TF default)"))
    print("  input: batch 1 x %d tokens; output %s, sum %.6f"
          % (seq, list(out.shape), float(np.sum(out.astype(np.float64)))))
    print("  model.predict:          " + _ms(timings))
    print("  model.predict_on_batch: " + _ms(timings_pob))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
