#!/usr/bin/env python3
"""Times ckpt against cp and the Python pipelines, side by side; prints the table of medians.

Run through bench/run.sh (which builds ckpt, prepares the venvs and generates the checkpoints);
this file needs only the Python standard library and /usr/bin/time (GNU time).

    python3 bench/bench.py --ckpt BIN --data DIR --python VENV_PY [--hf-python HF_PY]
                           [--ckpt-bench BIN] [--reps 5] [--large 1] [--large-py-reps 3]

Every command is a whole process: wall seconds from just before its start to its exit (Python
start-up and imports included: that is what a user pays), run under `/usr/bin/time -v` for its
peak RSS. The commands of one group run in turn, A B C ... A B C ..., after one untimed warm-up
each, so drift of the machine's speed hits all of them alike; every output folder is removed
before (and after) each run, so cp and ckpt both write fresh files. The page cache is not
dropped: the sources are read from memory after the warm-up, for every command alike.
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = os.path.join(HERE, "py")
PREFIX = "bert_model.ckpt"
MB = 1e6  # RSS and sizes in MB = 10^6 bytes (time -v reports KiB)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Cmd:
    def __init__(self, key, label, argv, outdir=None, ckpt=False, python=False):
        self.key, self.label, self.argv, self.outdir = key, label, argv, outdir
        self.ckpt, self.python = ckpt, python
        self.walls, self.rss, self.values = [], [], {}


class Runner:
    def __init__(self, runs_log):
        self.runs_log = runs_log
        fd, self.time_file = tempfile.mkstemp(prefix="ckpt-bench-time-")
        os.close(fd)

    def clean(self, cmd):
        if cmd.outdir and os.path.lexists(cmd.outdir):
            shutil.rmtree(cmd.outdir) if os.path.isdir(cmd.outdir) else os.remove(cmd.outdir)

    def run(self, cmd, case, record=True):
        self.clean(cmd)
        argv = ["/usr/bin/time", "-v", "-o", self.time_file] + cmd.argv
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        self.clean(cmd)
        with open(self.time_file) as f:
            tv = f.read()
        if p.returncode != 0:
            log("bench.py: FAILED (exit %d): %s\n%s\n%s" % (
                p.returncode, " ".join(cmd.argv), p.stderr.decode(errors="replace")[-3000:], tv))
            sys.exit(1)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
        rss = int(m.group(1)) * 1024 / MB if m else float("nan")
        values = dict((k, float(v)) for k, v in
                      re.findall(r"^(\w+_seconds)=([0-9.]+)$", p.stdout.decode(errors="replace"),
                                 re.M))
        if record:
            cmd.walls.append(wall)
            cmd.rss.append(rss)
            for k, v in values.items():
                cmd.values.setdefault(k, []).append(v)
        self.runs_log.write("%s\t%s\t%s\t%.4f\t%.1f\t%s\n" % (
            case, cmd.key, "run" if record else "warm-up", wall, rss,
            " ".join("%s=%s" % kv for kv in sorted(values.items()))))
        self.runs_log.flush()
        return wall

    def group(self, case, cmds, reps, warmup=True, limited=None):
        """cmds in turn, `reps` rounds; `limited` maps a key to fewer rounds (slow baselines)."""
        limited = limited or {}
        if warmup:
            for c in cmds:
                if limited.get(c.key, reps) > 0 and not getattr(c, "no_warmup", False):
                    log("  warm-up %-34s %.2f s" % (c.key, self.run(c, case, record=False)))
        for r in range(reps):
            for c in cmds:
                if r < limited.get(c.key, reps):
                    log("  rep %d/%d %-34s %.2f s" % (r + 1, reps, c.key, self.run(c, case)))


def med(xs):
    return statistics.median(xs) if xs else None


def fmt_s(x):
    if x is None:
        return "n/a"
    return "%.3f" % x if x < 10 else "%.1f" % x


def machine():
    model = ""
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        model = m.group(1).strip() if m else ""
    except OSError:
        pass
    ram = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
        ram = "%.1f GiB RAM" % (kb / 1048576)
    except (OSError, AttributeError):
        pass
    return "%d CPUs (nproc), %s, %s, Linux %s" % (
        len(os.sched_getaffinity(0)), model or platform.processor(), ram, platform.release())


# Some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the environment for older OpenBLAS
# builds (on this one: Haswell's AVX2 kernels on an AVX-512 CPU). A user's machine has neither, so
# the forward rows run ckpt (and, alike, TensorFlow, which does not use OpenBLAS) without them;
# the table's header says which kernel OpenBLAS then runs, and the rows still check ckpt's hidden
# states against TensorFlow's.
FREE_BLAS = ["env", "-u", "OPENBLAS_CORETYPE", "-u", "OPENBLAS_L2_SIZE"]


def check_forward_agreement(py, fwd, fwd_tf, tolerance=1e-3):
    """Runs ckpt's and TensorFlow's forward once more, untimed, keeping both outputs, and checks
    the hidden states agree within `tolerance` (the issue's bound); exits when they do not."""
    keep = tempfile.mkdtemp(prefix="ckpt-bench-forward-")
    paths = []
    for cmd, name in ((fwd, "ckpt.npz"), (fwd_tf, "tf.npz")):
        argv = [os.path.join(keep, name) if a == cmd.outdir else a for a in cmd.argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        paths.append(os.path.join(keep, name))
    out = subprocess.run([py, "-c", "import sys, numpy as np; a = np.load(sys.argv[1])['hidden']; "
                          "b = np.load(sys.argv[2])['hidden']; print(float(np.abs(a - b).max()))"] + paths,
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    shutil.rmtree(keep)
    diff = float(out.strip())
    log("forward: ckpt's and TensorFlow's hidden states differ by at most %.2g" % diff)
    if not diff <= tolerance:
        sys.exit("bench.py: ckpt forward and TensorFlow disagree (max abs diff %g > %g)" % (diff, tolerance))
    return diff


def blas_line(argv):
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120).stdout
        return next((line for line in out.splitlines() if line.startswith("OpenBLAS")), None)
    except (OSError, subprocess.TimeoutExpired):
        return None


def version(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120)
        return p.stdout.strip().splitlines()[-1] if p.returncode == 0 and p.stdout.strip() else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def largest_tensor_bytes(ckpt, prefix):
    out = subprocess.run([ckpt, "inspect", "--json", prefix], stdout=subprocess.PIPE, check=True)
    d = json.loads(out.stdout)
    model = sum(t["bytes"] for t in d["tensors"]
                if not t["name"].endswith(("/adam_m", "/adam_v")) and t["name"] != "global_step")
    return max(t["bytes"] for t in d["tensors"]), d["total_bytes"], model


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
               if os.path.isfile(os.path.join(d, f)))


def forward_inputs(vocab_size, seq=128):
    r = random.Random(0)
    ids = [r.randrange(5, vocab_size) for _ in range(seq)]
    ids[0], ids[-1] = 2, 3  # [CLS] ... [SEP] in bench/make_checkpoints.py's vocabulary
    segments = [0] * (seq // 2) + [1] * (seq - seq // 2)
    return ",".join(map(str, ids)), ",".join(map(str, segments))


def new_paths_group(args, runner, case, prefix, src_dir, o):
    """The paths added since the first table, each against its own yardstick on the same bytes:
    GGUF f32 / f16 from the TF checkpoint against `cp` of a GGUF file of the same size; with the
    hf venv (torch), a `pytorch_model.bin` of the model -> native against `cp` of the .bin, and
    `ckpt tokenize` of 450,000 lines against Hugging Face `tokenizers` (Rust) on the same vocab.
    Returns [(operation, ckpt Cmd, yardstick Cmd, comparison, target ratio)]."""
    c, hf = args.ckpt, args.hf_python
    rows, group = [], []
    for dtype in ("float32", "float16"):
        made = o("gguf_made_" + dtype)
        subprocess.run([c, "convert", prefix, "--to", made, "--layout", "gguf", "--dtype", dtype, "--force", "-q"],
                       check=True)
        same = o("gguf_same_%s.gguf" % dtype)
        shutil.copy(os.path.join(made, "model.gguf"), same)
        shutil.rmtree(made)
        a = Cmd("ckpt convert gguf " + dtype, "", [c, "convert", prefix, "--to", o("gguf_" + dtype), "--layout",
                                                  "gguf", "--dtype", dtype], o("gguf_" + dtype), ckpt=True)
        b = Cmd("cp gguf " + dtype, "", ["cp", same, o("gguf_cp_" + dtype)], o("gguf_cp_" + dtype))
        group += [b, a]
        rows.append(("convert --layout gguf --dtype " + dtype, a, b, "cp of a file of the same bytes", 1.3))
    if hf and case == "base":
        folder = o("bin_source")
        if not os.path.exists(os.path.join(folder, "pytorch_model.bin")):
            subprocess.run([c, "convert", prefix, "--to", folder, "--layout", "hf", "--force", "-q"], check=True)
            subprocess.run([hf, os.path.join(PY, "make_bin.py"), folder], check=True)
        binary = os.path.join(folder, "pytorch_model.bin")
        a = Cmd("ckpt convert .bin native", "", [c, "convert", binary, "--to", o("bin_native")], o("bin_native"),
                ckpt=True)
        b = Cmd("cp .bin", "", ["cp", binary, o("bin_cp")], o("bin_cp"))
        group += [b, a]
        rows.append(("convert pytorch_model.bin --layout native", a, b, "cp of the .bin", 1.3))
        lines, tokenizer = o("tok_lines.txt"), o("tok_folder")
        if not os.path.exists(os.path.join(tokenizer, "tokenizer.json")):
            subprocess.run([hf, os.path.join(PY, "make_tokenize_input.py"), os.path.join(src_dir, "vocab.txt"),
                            tokenizer, lines], check=True)
        a = Cmd("ckpt tokenize", "", [c, "tokenize", tokenizer, "--file", lines], ckpt=True)
        b = Cmd("HF tokenizers encode_batch", "", [hf, os.path.join(PY, "tokenize_hf.py"),
                                                   os.path.join(tokenizer, "tokenizer.json"), lines,
                                                   o("tok_hf.txt")], o("tok_hf.txt"), python=True)
        group += [b, a]
        rows.append(("tokenize 450,000 lines", a, b, "Hugging Face tokenizers (Rust) encode_batch", 0.5))
    log("-- new paths: gguf, .bin, tokenize (%d rounds)" % args.reps)
    runner.group(case, group, args.reps)
    return rows


def run_case(args, runner, case, rows_out):
    src_dir = os.path.join(args.data, case)
    prefix = os.path.join(src_dir, PREFIX)
    out = os.path.join(args.data, "out")
    os.makedirs(out, exist_ok=True)
    vocab = os.path.join(src_dir, "vocab.txt")
    config = os.path.join(src_dir, "bert_config.json")
    with open(config) as f:
        cfg = json.load(f)
    keep = os.path.join(args.data, "keep_tokens_%s.txt" % case)
    with open(vocab) as f:
        tokens = [t.rstrip("\n") for t in f]
    with open(keep, "w") as f:  # the 5 specials, then every other token: 10,567 of 21,128
        f.write("\n".join(t for i, t in enumerate(tokens) if i < 5 or i % 2 == 1) + "\n")
    largest, total, model_bytes = largest_tensor_bytes(args.ckpt, prefix)
    ckpt_bytes = sum(os.path.getsize(os.path.join(src_dir, f)) for f in os.listdir(src_dir)
                     if f.startswith(PREFIX + "."))
    rss_limit = 128.0 if case == "base" else 64.0 + largest / MB
    rss_text = "≤ %.0f MB" % rss_limit if case == "base" else "≤ 64 MB + %.0f MB" % (largest / MB)
    log("== %s: %s (%.2f GB of checkpoint files, %.2f GB of tensors, largest tensor %.1f MB)"
        % (case, prefix, ckpt_bytes / 1e9, total / 1e9, largest / MB))

    c, py, hf = args.ckpt, args.python, args.hf_python
    o = lambda name: os.path.join(out, name)  # noqa: E731
    cp = Cmd("cp", "cp -r", ["cp", "-r", src_dir, o("cp")], o("cp"))
    native = Cmd("ckpt convert native", "", [c, "convert", prefix, "--to", o("native")],
                 o("native"), ckpt=True)
    keepopt = Cmd("ckpt convert native --keep-optimizer", "",
                  [c, "convert", prefix, "--to", o("keepopt"), "--keep-optimizer"],
                  o("keepopt"), ckpt=True)
    hfc = Cmd("ckpt convert hf", "", [c, "convert", prefix, "--to", o("hf"), "--layout", "hf"],
              o("hf"), ckpt=True)
    tfc = Cmd("ckpt convert tf", "", [c, "convert", prefix, "--to", o("tf"), "--layout", "tf"],
              o("tf"), ckpt=True)
    prune = Cmd("ckpt prune native", "", [c, "prune", prefix, "--to", o("prune"), "--vocab", vocab,
                                          "--keep-tokens", keep], o("prune"), ckpt=True)
    py_st = Cmd("python load_checkpoint+save_file", "",
                [py, os.path.join(PY, "convert_safetensors.py"), prefix, o("py_st")], o("py_st"),
                python=True)
    py_prune = Cmd("python prune+save_file", "",
                   [py, os.path.join(PY, "prune_safetensors.py"), prefix, vocab, keep,
                    o("py_prune")], o("py_prune"), python=True)
    py_hf = None
    if hf and (case == "base" or args.large_hf):
        py_hf = Cmd("transformers load_tf_weights_in_bert", "",
                    [hf, os.path.join(PY, "convert_transformers.py"), prefix, config, o("py_hf")],
                    o("py_hf"), python=True)
    has_slots = model_bytes < total * 0.9

    convert_group = [cp, native] + ([keepopt] if has_slots else []) + [hfc, tfc, prune, py_st,
                                                                        py_prune]
    if py_hf:
        convert_group.append(py_hf)
    py_reps = args.reps if case == "base" else min(args.reps, args.large_py_reps)
    limited = {k.key: py_reps for k in convert_group if k.python}
    if case != "base":
        for k in convert_group:  # TF/torch libraries are warm from the base case
            k.no_warmup = k.python
    log("-- convert / prune (%d rounds; Python pipelines %d)" % (args.reps, py_reps))
    runner.group(case, convert_group, args.reps, limited=limited)

    inspect = Cmd("ckpt inspect", "", [c, "inspect", prefix], ckpt=True)
    listvars = Cmd("python tf.train.list_variables", "",
                   [py, os.path.join(PY, "list_variables.py"), prefix], python=True)
    log("-- inspect (%d rounds)" % args.reps)
    runner.group(case, [inspect, listvars], args.reps)

    gguf_rows = new_paths_group(args, runner, case, prefix, src_dir, o)

    fwd = fwd_tf = steady = steady_tf = None
    if case == "base":
        tokens, segments = forward_inputs(cfg["vocab_size"])
        fwd = Cmd("ckpt forward", "", FREE_BLAS + [c, "forward", prefix, "--tokens", tokens, "--segments",
                                       segments, "--output", o("fwd.npz")], o("fwd.npz"),
                  ckpt=True)
        fwd_tf = Cmd("bert4keras TF forward", "",
                     FREE_BLAS + [py, os.path.join(PY, "tf_forward.py"), prefix, "--tokens", tokens,
                      "--segments", segments, "--output", o("tf.npz")], o("tf.npz"), python=True)
        log("-- forward, whole process (%d rounds)" % args.reps)
        runner.group(case, [fwd, fwd_tf], args.reps)
        fwd.values["max_abs_diff_vs_tf"] = [check_forward_agreement(py, fwd, fwd_tf)]
        # Per pass, in loaded models: TensorFlow's and ckpt's passes alternate one by one in a
        # single run (tf_forward.py --paired-ckpt-bench), 20 pairs, because this machine's speed
        # drifts over minutes; without ckpt-bench, TensorFlow alone.
        argv = FREE_BLAS + [py, os.path.join(PY, "tf_forward.py"), prefix, "--tokens", tokens,
                            "--segments", segments, "--runs", "20"]
        if args.ckpt_bench:
            argv += ["--paired-ckpt-bench", args.ckpt_bench]
        steady_tf = Cmd("bert4keras TF predict_on_batch" + (" paired with ckpt-bench" if args.ckpt_bench else ""),
                        "", argv, python=True)
        sreps = max(1, min(3, args.reps))
        log("-- forward, per pass in loaded models (%d rounds, each the medians of 20 passes)" % sreps)
        runner.group(case, [steady_tf], sreps, warmup=False)
        if args.ckpt_bench:
            steady = Cmd("ckpt-bench forward-serve", "", [])
            steady.values["steady_forward_seconds"] = steady_tf.values.get("paired_ckpt_forward_seconds", [])

    def row(op, a, b, comparison, target, kind, rss_applies=True, values_key=None, b_values_key=None):
        am = med(a.walls) if values_key is None else med(a.values.get(values_key, []))
        bm = None
        b_key = b_values_key or values_key
        if b is not None:
            bm = med(b.walls) if b_key is None else med(b.values.get(b_key, []))
        ratio = am / bm if (am is not None and bm) else None
        rss = max(a.rss) if (a.rss and a.ckpt) else None
        ok_t = None
        if kind == "ratio" and ratio is not None:
            ok_t = ratio <= target
        elif kind == "abs" and am is not None:
            ok_t = am <= target
        ok_m = (rss <= rss_limit) if (rss_applies and rss is not None) else None
        checks = [x for x in (ok_t, ok_m) if x is not None]
        if not checks:
            met = "—"
        elif all(checks):
            met = "yes"
        else:
            met = "NO (%s)" % ", ".join(n for n, x in (("time", ok_t), ("RSS", ok_m)) if x is False)
        if kind == "ratio":
            ttext = ("≤ %.2f× (≥ %d× faster)" % (target, round(1 / target)) if target < 0.5
                     else "≤ %.1f×" % target)
        elif kind == "abs":
            ttext = "≤ %.0f ms" % (target * 1e3)
        else:
            ttext = "—"
        if rss_applies:
            ttext = ("RSS " + rss_text) if ttext == "—" else (ttext + ", RSS " + rss_text)
        bnoimp = None
        if b is not None and b.python and values_key is None:
            bnoimp = med(b.values.get("pipeline_seconds", []))
        rows_out.append(dict(
            case=case, op=op, ckpt=am, comparison=comparison, other=bm, ratio=ratio,
            target=ttext, met=met, rss=rss, other_noimport=bnoimp,
            runs=len(a.walls) if values_key is None else len(a.values.get(values_key, [])),
            other_runs=(len(b.walls) if b_key is None
                        else len(b.values.get(b_key, []))) if b is not None else 0))

    hf_name = "transformers load_tf_weights_in_bert + save_pretrained"
    row("convert --layout native", native, cp, "cp -r of the checkpoint", 1.3, "ratio")
    if has_slots:
        row("convert --layout native --keep-optimizer", keepopt, cp,
            "cp -r (same bytes written)", 1.3, "ratio")
    row("convert --layout hf", hfc, cp, "cp -r of the checkpoint", 1.3, "ratio")
    row("convert --layout tf", tfc, cp, "cp -r of the checkpoint", 1.3, "ratio")
    row("prune --layout native (10,567 of 21,128 tokens)", prune, cp, "cp -r of the checkpoint",
        None, "none")
    row("convert --layout native", native, py_st,
        "tf.train.load_checkpoint + safetensors.numpy.save_file", 0.05, "ratio")
    if py_hf:
        row("convert --layout hf", hfc, py_hf, hf_name, 0.05, "ratio")
    else:
        rows_out.append(dict(case=case, op="convert --layout hf", ckpt=med(hfc.walls),
                             comparison=hf_name, other=None, ratio=None, target="≤ 0.05×",
                             met="—", rss=max(hfc.rss), other_noimport=None, runs=len(hfc.walls),
                             other_runs=0,
                             note="n/a (transformers not installed)" if not hf else
                             "n/a (skipped on the large case; BENCH_LARGE_HF=1 runs it)"))
    row("prune --layout native (10,567 of 21,128 tokens)", prune, py_prune,
        "load_checkpoint + rows + save_file", 0.05, "ratio")
    row("inspect", inspect, listvars, "tf.train.list_variables, fresh process", 0.020, "abs")
    for op, a, b, comparison, target in gguf_rows:
        row(op, a, b, comparison, target, "ratio", rss_applies=a.key.startswith("ckpt convert"))
    if fwd:
        row("forward seq 128, whole process", fwd, fwd_tf,
            "TF 2.15 bert4keras build + load + predict", 1.0, "ratio", rss_applies=False)
        row("forward seq 128, whole process", fwd, steady_tf,
            "one warm TF 2.15 bert4keras predict_on_batch", 2.0, "ratio", rss_applies=False,
            b_values_key="steady_forward_seconds")
        row("forward seq 128, per pass (loaded model)", steady or Cmd("", "", []), steady_tf,
            "TF 2.15 bert4keras predict_on_batch", 1.0, "ratio", rss_applies=False,
            values_key="steady_forward_seconds")
    return dict(case=case, prefix=prefix, checkpoint_bytes=ckpt_bytes, model_bytes=model_bytes,
                largest=largest, cfg=cfg, cmds=[x for x in (
                    convert_group + [inspect, listvars, fwd, fwd_tf, steady, steady_tf]
                    + [c for r in gguf_rows for c in r[1:3]]) if x])


def table(rows):
    head = ["case", "operation", "ckpt s", "comparison", "comparison s", "ratio", "target",
            "met?", "ckpt peak RSS MB", "comparison s w/o imports"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        other = r.get("note") or fmt_s(r["other"])
        lines.append("| " + " | ".join([
            r["case"], r["op"], fmt_s(r["ckpt"]), r["comparison"], other,
            "%.3f×" % r["ratio"] if r["ratio"] is not None else "n/a", r["target"], r["met"],
            "%.0f" % r["rss"] if r["rss"] is not None else "—",
            fmt_s(r["other_noimport"]) if r["other_noimport"] is not None else "—",
        ]) + " |")
    return "\n".join(lines)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", required=True)
    p.add_argument("--ckpt-bench")
    p.add_argument("--data", required=True)
    p.add_argument("--python", required=True, help="the fixtures venv's python (TF 2.15)")
    p.add_argument("--hf-python", help="the hf venv's python (transformers + torch + TF)")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--large", type=int, default=1)
    p.add_argument("--large-py-reps", type=int, default=3)
    p.add_argument("--large-hf", type=int, default=1)
    args = p.parse_args(argv)
    if not os.access("/usr/bin/time", os.X_OK):
        sys.exit("bench.py: /usr/bin/time (GNU time) is needed: apt-get install time")
    started = time.time()
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    results = os.path.join(args.data, "results")
    os.makedirs(results, exist_ok=True)
    tag = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    runs_path = os.path.join(results, "runs-%s.tsv" % tag)
    info = [
        "date: %s" % stamp,
        "machine: %s" % machine(),
        "ckpt: %s (%s)" % (version([args.ckpt, "--version"]) or "?", args.ckpt),
        "forward rows (OpenBLAS as a user's machine loads it): %s"
        % (blas_line(FREE_BLAS + [args.ckpt, "--version"]) or "?"),
        "python pipeline: %s" % (version([args.python, "-c", "import tensorflow as tf, "
                                          "safetensors, numpy; print('TensorFlow', tf.__version__,"
                                          " '/ safetensors', safetensors.__version__, '/ numpy', "
                                          "numpy.__version__)"]) or "?"),
        "transformers pipeline: %s" % ((version([args.hf_python, "-c", "import transformers, "
                                                 "torch; print('transformers', "
                                                 "transformers.__version__, '/ torch', "
                                                 "torch.__version__)"]) or "?")
                                       if args.hf_python else "not installed"),
        "repetitions: %d (Python pipelines on the large case: %d), medians of whole-process "
        "wall time, after one warm-up" % (args.reps, min(args.reps, args.large_py_reps)),
    ]
    for line in info:
        log(line)
    rows, cases = [], []
    with open(runs_path, "w") as runs_log:
        runs_log.write("case\tcommand\tkind\twall_s\tpeak_rss_MB\tvalues\n")
        runner = Runner(runs_log)
        true = Cmd("true", "", ["true"])
        for _ in range(10):
            runner.run(true, "overhead")
        info.append("measuring overhead (a process doing nothing, `true`, under /usr/bin/time -v, "
                    "timed as the others): median %.1f ms, included in every figure"
                    % (med(true.walls) * 1e3))
        log(info[-1])
        for case in ["base"] + (["large"] if args.large else []):
            cases.append(run_case(args, runner, case, rows))
        os.remove(runner.time_file)
    elapsed = time.time() - started

    lines = list(info)
    for cs in cases:
        c = cs["cfg"]
        lines.append("%s: %d layers, hidden %d, intermediate %d, vocab %d; %.2f GB of checkpoint "
                     "files, %.2f GB without optimizer state; largest tensor %.1f MB" % (
                         cs["case"], c["num_hidden_layers"], c["hidden_size"],
                         c["intermediate_size"], c["vocab_size"], cs["checkpoint_bytes"] / 1e9,
                         cs["model_bytes"] / 1e9, cs["largest"] / MB))
    lines.append("")
    lines.append(table(rows))
    lines.append("")
    lines.append("every run (min / median / max wall s; max peak RSS MB):")
    for cs in cases:
        for cmd in cs["cmds"]:
            if cmd.walls:
                lines.append("  %-5s %-40s %s / %s / %s s; %.0f MB; %d runs" % (
                    cs["case"], cmd.key, fmt_s(min(cmd.walls)), fmt_s(med(cmd.walls)),
                    fmt_s(max(cmd.walls)), max(cmd.rss), len(cmd.walls)))
            if cmd.values.get("max_abs_diff_vs_tf"):
                lines.append("  %-5s ckpt forward vs TF hidden states: max abs diff %.2g (bound 1e-3)" % (
                    cs["case"], cmd.values["max_abs_diff_vs_tf"][0]))
            if cmd.values.get("paired_ratio_seconds"):
                lines.append("  %-5s forward per pass, paired rounds: ckpt %s s, TF %s s, median per-pair ratio %s" % (
                    cs["case"], " ".join("%.4f" % v for v in cmd.values.get("paired_ckpt_forward_seconds", [])),
                    " ".join("%.4f" % v for v in cmd.values.get("steady_forward_seconds", [])),
                    " ".join("%.3f" % v for v in cmd.values["paired_ratio_seconds"])))
    lines.append("benchmark time: %.1f min; each run's figures: %s" % (elapsed / 60, runs_path))
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(results, "table-%s.md" % tag), "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
