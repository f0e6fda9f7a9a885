#!/usr/bin/env python3
"""Interop test (CI, via scripts/interop.sh): what ckpt writes is read back by TensorFlow,
bert4keras and safetensors, and gives the same model as the source fixture.

Usage (inside the pinned venv of Fixtures/requirements.txt; scripts/interop.sh builds it):

    python Tests/interop/bert4keras_interop.py --ckpt .build/debug/ckpt --work DIR [FAMILY...]

For every family of Fixtures/families/ (or the ones named), ckpt converts the TF checkpoint to
native, hf, tf and keras, and the Keras fixture (model.weights.h5) to tf and keras, into
DIR/<family>/ (refusals expected where listed: NO_HF, KERAS_TO_TF_REFUSED). Then:

  0. the config.json of each native/tf/keras output names the fixture's family (ckpt_family);

  1. tf.train.load_checkpoint reads each TF checkpoint ckpt wrote (and tf.train.latest_checkpoint
     finds it through the `checkpoint` file): the same variable names as the source fixture's
     model.ckpt, every tensor bit-identical (dtype, shape, bytes);
  2. bert4keras (build_transformer_model with the family's heads from Fixtures/generate.py
     FAMILIES) loads the tf outputs (checkpoint_path=) and the keras outputs (model.load_weights)
     and predicts the same outputs as the source it was converted from (<= 1e-5 abs); the loaded
     trainable weights equal the source's bit for bit;
  3. safetensors.numpy reads the native output (a pure rename of the source: the same multiset of
     (dtype, shape, bytes)) and the hf output (compared with transformers' golden.hf.safetensors:
     names, shapes, values <= 1e-6; golden names ckpt may leave out: all but one member of each
     tie group, and the tensors transformers does not load from TF, both from golden.hf.json).

One line per family, then `interop: N passed, M failed` (families); exit 1 if any failed, 2 if
the environment cannot be imported.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Fixtures")
sys.path.insert(0, FIXTURES)
import generate  # noqa: E402  (FAMILIES, FWD_INPUTS, setup_tf)

FAMILY_ORDER = ["bert", "albert", "albert_unshared", "nezha", "roformer", "electra", "gpt", "gpt2",
                "gpt2_ml", "t5.1.0", "t5.1.1"]

# Families ckpt must convert to the Hugging Face layout, with the golden to compare against
# (directory under Fixtures/ holding golden.hf.safetensors + golden.hf.json). albert_unshared has
# no golden of its own (transformers has no unshared ALBERT): its names and shapes are checked
# against the albert golden (same config), its values only for loading.
HF_FAMILIES = {
    "bert": "families/bert",
    "albert": "families/albert",
    "nezha": "families/nezha",
    "roformer": "families/roformer",
    "electra": "families/electra",
    "gpt2": "special/gpt2_openai",  # families/gpt2's weights under OpenAI's names
    "t5.1.0": "families/t5.1.0",
    "t5.1.1": "families/t5.1.1",
}
HF_NAMES_ONLY = set()
# Families without a transformers layout: ckpt must refuse --layout hf with this message. A
# family that starts converting fails here too, so this list is updated on purpose.
NO_HF = {"gpt": "has no Hugging Face layout", "gpt2_ml": "has no Hugging Face layout",
         # transformers has no unshared ALBERT
         "albert_unshared": "has no Hugging Face layout"}
# Keras source -> tf conversions ckpt must refuse. albert_unshared: the Keras model has separate
# weights per layer, the ALBERT TF layout one shared set of names, so no lossless TF file exists.
KERAS_TO_TF_REFUSED = {"albert_unshared": "shares one tensor across layers"}

PRED_TOL = 1e-5
HF_TOL = 1e-6
NON_TRAINABLE_TOL = 1e-6  # NEZHA's sinusoidal table, recomputed by ckpt (~1e-7 off)

# bert4keras input layer -> key of generate.FWD_INPUTS
INPUT_KEYS = {"Input-Token": "token_ids", "Input-Segment": "segment_ids",
              "Encoder-Input-Token": "token_ids", "Decoder-Input-Token": "decoder_token_ids"}


class FamilyFailed(Exception):
    pass


def input_batch(np, family):
    """Two rows: generate.FWD_INPUTS' fixed row and a fixed-seed random one (ids 1..63, so no
    padding id 0 except the T5 decoder start)."""
    config = generate.FAMILIES[family][1]
    kind = "t5" if family.startswith("t5") else "gpt" if family.startswith("gpt") else "encoder"
    fixed = generate.FWD_INPUTS[kind]
    rng = np.random.RandomState(1234)
    batch = {}
    for key, row in fixed.items():
        row = np.array(row, np.int32)
        if key == "segment_ids":
            other = np.sort(rng.randint(0, 2, size=row.shape)).astype(np.int32)
        elif key == "decoder_token_ids":
            other = np.concatenate([[0], rng.randint(1, config["vocab_size"], size=row.size - 1)])
        else:
            other = rng.randint(1, config["vocab_size"], size=row.shape)
        batch[key] = np.stack([row, other.astype(np.int32)])
    return batch


def run_ckpt(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, (p.stderr.strip() or p.stdout.strip())


class Checker:
    def __init__(self, binary, work, tf, np):
        self.binary, self.work, self.tf, self.np = binary, work, tf, np
        from bert4keras.backend import K
        from bert4keras.models import build_transformer_model
        import safetensors.numpy

        self.K, self.build_transformer_model, self.st = K, build_transformer_model, safetensors.numpy

    # ---- conversions -------------------------------------------------------------------------

    def convert(self, family, label, source, layout, extra=()):
        out = os.path.join(self.work, family, label)
        rc, msg = run_ckpt(self.binary, ["convert", source, "--to", out, "--layout", layout]
                           + list(extra))
        return out, rc, msg

    def expect_converted(self, family, label, source, layout, extra=()):
        out, rc, msg = self.convert(family, label, source, layout, extra)
        if rc != 0:
            raise FamilyFailed("%s: ckpt convert --layout %s failed (exit %d): %s"
                               % (label, layout, rc, msg))
        return out

    def expect_refused(self, family, label, source, layout, needle, extra=()):
        out, rc, msg = self.convert(family, label, source, layout, extra)
        if rc == 0:
            raise FamilyFailed("%s: ckpt convert --layout %s succeeded but is expected to refuse "
                               "(%r); update the list in %s if this is intended"
                               % (label, layout, needle, os.path.basename(__file__)))
        if needle not in msg:
            raise FamilyFailed("%s: ckpt refused --layout %s with an unexpected message: %s"
                               % (label, layout, msg))

    # ---- 1. TF checkpoints -------------------------------------------------------------------

    def read_tf(self, prefix):
        reader = self.tf.train.load_checkpoint(prefix)
        dtypes = reader.get_variable_to_dtype_map()
        return {name: (dtypes[name].name, reader.get_tensor(name)) for name in dtypes}

    def check_tf(self, label, out_prefix, source):
        # the `checkpoint` state file ckpt writes beside the bundle names it
        latest = self.tf.train.latest_checkpoint(os.path.dirname(out_prefix))
        if latest is None or os.path.abspath(latest) != os.path.abspath(out_prefix):
            raise FamilyFailed("%s: tf.train.latest_checkpoint(output folder) gives %r, not %s"
                               % (label, latest, out_prefix))
        got = self.read_tf(out_prefix)
        if set(got) != set(source):
            raise FamilyFailed("%s: TF variable names differ from the source: missing %s, extra %s"
                               % (label, sorted(set(source) - set(got)),
                                  sorted(set(got) - set(source))))
        for name, (dtype, value) in sorted(source.items()):
            gdtype, gvalue = got[name]
            if gdtype != dtype or gvalue.shape != value.shape:
                raise FamilyFailed("%s: tensor %s is %s %s, the source %s %s"
                                   % (label, name, gdtype, list(gvalue.shape), dtype,
                                      list(value.shape)))
            if not self.np.array_equal(gvalue, value):
                diff = float(self.np.max(self.np.abs(gvalue.astype(self.np.float64)
                                                     - value.astype(self.np.float64))))
                raise FamilyFailed("%s: tensor %s differs from the source (max diff %.3g)"
                                   % (label, name, diff))
        return len(got)

    # ---- 2. bert4keras -----------------------------------------------------------------------

    def build(self, family, config, checkpoint=None, weights=None):
        self.K.clear_session()
        model_name, _, heads, _ = generate.FAMILIES[family]
        transformer = self.build_transformer_model(config, checkpoint_path=checkpoint,
                                                   model=model_name, return_keras_model=False,
                                                   **heads)
        model = transformer.model
        if weights is not None:
            model.load_weights(weights)
        return model

    def run_model(self, family, label, config, batch, checkpoint=None, weights=None):
        """(outputs, [(weight name, trainable, value)]) of a fresh build."""
        try:
            model = self.build(family, config, checkpoint, weights)
        except Exception as e:  # noqa: BLE001
            raise FamilyFailed("%s: bert4keras cannot load it: %s: %s"
                               % (label, type(e).__name__, " ".join(str(e).split())[:400]))
        names = [t.name.split(":")[0] for t in model.inputs]
        feed = [batch[INPUT_KEYS[n]] for n in names]
        outputs = model.predict(feed, batch_size=len(feed[0]), verbose=0)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        trainable = set(id(w) for w in model.trainable_weights)
        values = self.K.batch_get_value(model.weights)
        weights_out = [(w.name, id(w) in trainable, v) for w, v in zip(model.weights, values)]
        return [o.copy() for o in outputs], weights_out

    def compare_model(self, label, ref, got):
        np = self.np
        ref_out, ref_w = ref
        out, w = got
        if len(out) != len(ref_out):
            raise FamilyFailed("%s: %d outputs, the source model %d" % (label, len(out), len(ref_out)))
        worst = 0.0
        for i, (a, b) in enumerate(zip(out, ref_out)):
            if a.shape != b.shape:
                raise FamilyFailed("%s: output %d has shape %s, the source %s"
                                   % (label, i, a.shape, b.shape))
            diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
            if not diff <= PRED_TOL:
                raise FamilyFailed("%s: output %d %s differs from the source's predictions by %.3g "
                                   "(> %g)" % (label, i, list(a.shape), diff, PRED_TOL))
            worst = max(worst, diff)
        if len(w) != len(ref_w):
            raise FamilyFailed("%s: model has %d weights, the source model %d"
                               % (label, len(w), len(ref_w)))
        wworst = 0.0
        for (name, trainable, a), (_, _, b) in zip(w, ref_w):
            if trainable:
                if not np.array_equal(a, b):
                    diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
                    raise FamilyFailed("%s: loaded weight %s differs from the source model's "
                                       "(max diff %.3g)" % (label, name, diff))
            else:
                diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
                if not diff <= NON_TRAINABLE_TOL:
                    raise FamilyFailed("%s: non-trainable weight %s differs from the source "
                                       "model's by %.3g" % (label, name, diff))
                wworst = max(wworst, diff)
        return worst, wworst

    # ---- 3. safetensors ----------------------------------------------------------------------

    def check_native(self, label, out, source):
        np = self.np
        tensors = self.st.load_file(os.path.join(out, "model.safetensors"))

        def key(value):
            return (value.dtype.name, value.shape, np.ascontiguousarray(value).tobytes())

        want = sorted(key(v) for _, v in source.values())
        have = sorted(key(v) for v in tensors.values())
        if label.startswith("albert_unshared"):
            # ALBERT's shared TF release: every unshared layer is a copy of the one shared layer.
            want, have = sorted(set(want)), sorted(set(have))
        if want != have:
            have_set, want_set = set(have), set(want)
            missing = [(d, s) for d, s, _ in want if (d, s, _) not in have_set]
            extra = [(d, s) for d, s, _ in have if (d, s, _) not in want_set]
            raise FamilyFailed("%s: the %d tensors are not a pure rename of the %d source tensors "
                               "(source (dtype, shape) without an identical tensor: %s; output "
                               "tensors without one in the source: %s)"
                               % (label, len(have), len(want), missing[:6], extra[:6]))
        return len(tensors)

    def check_hf(self, family, label, out):
        np = self.np
        golden_dir = os.path.join(FIXTURES, HF_FAMILIES[family])
        tensors = self.st.load_file(os.path.join(out, "model.safetensors"))
        golden = self.st.load_file(os.path.join(golden_dir, "golden.hf.safetensors"))
        with open(os.path.join(golden_dir, "golden.hf.json")) as f:
            meta = json.load(f)
        # tie groups: an owner and the names transformers ties to it; one member of each group
        # is enough (transformers re-ties the others on load)
        tied_to = meta.get("tied", {})
        groups = {}
        for name, owner in tied_to.items():
            groups.setdefault(owner, {owner}).add(name)
        group_of = {n: g for g in groups.values() for n in g}
        not_loaded = set(t["name"] for t in meta["tensors"] if not t.get("loaded_from_tf"))
        extra = sorted(set(tensors) - set(golden))
        if extra:
            raise FamilyFailed("%s: names not in %s/golden.hf.safetensors: %s"
                               % (label, HF_FAMILIES[family], extra))
        left_out = set(golden) - set(tensors)
        unexplained = sorted(n for n in left_out - not_loaded
                             if n not in group_of or not group_of[n] & set(tensors))
        if unexplained:
            raise FamilyFailed("%s: golden tensors missing from the output (not a tied copy of a "
                               "written tensor, and loaded from TF by transformers): %s"
                               % (label, unexplained))
        owners_left_out = sorted(n for n in left_out if n in groups)
        worst = 0.0
        for name, value in sorted(tensors.items()):
            g = golden[name]
            if value.dtype != g.dtype or value.shape != g.shape:
                raise FamilyFailed("%s: %s is %s %s, the golden %s %s"
                                   % (label, name, value.dtype, list(value.shape), g.dtype,
                                      list(g.shape)))
            if family in HF_NAMES_ONLY:
                continue
            diff = float(np.max(np.abs(value.astype(np.float64) - g.astype(np.float64)))) \
                if value.size else 0.0
            if not diff <= HF_TOL:
                raise FamilyFailed("%s: %s differs from the golden by %.3g (> %g)"
                                   % (label, name, diff, HF_TOL))
            worst = max(worst, diff)
        summary = "%d tensors vs golden %d" % (len(tensors), len(golden))
        parts = []
        tied_left_out = left_out & set(group_of)
        if tied_left_out:
            parts.append("%d tied" % len(tied_left_out))
        for owner in owners_left_out:
            parts.append("tie owner %s left out, kept %s" % (
                owner, ",".join(sorted(groups[owner] & set(tensors)))))
        if left_out - set(group_of):
            parts.append("not from TF: %s" % ",".join(sorted(left_out - set(group_of))))
        if parts:
            summary += " (left out: %s)" % "; ".join(parts)
        if family in HF_NAMES_ONLY:
            summary += " names/shapes of %s" % HF_FAMILIES[family]
        else:
            summary += " max %.1e" % worst
        return summary

    # ---- one family --------------------------------------------------------------------------

    def family(self, family):
        """(ok, summary line, [failure messages]): every stage runs, failures are collected."""
        fam_dir = os.path.join(FIXTURES, "families", family)
        config = os.path.join(fam_dir, "config.json")
        src_prefix = os.path.join(fam_dir, "model.ckpt")
        h5_source = os.path.join(fam_dir, "model.weights.h5")
        h5_args = ["--config", config, "--model", family]
        os.makedirs(os.path.join(self.work, family), exist_ok=True)
        # Keras >= 2.13 routes "*.weights.h5" to its v3 weights format; the fixture is the
        # classic HDF5 layout, which Keras reads from any other ".h5" name.
        src_h5 = os.path.join(self.work, family, "source.h5")
        if not os.path.lexists(src_h5):
            os.symlink(h5_source, src_h5)
        errors, facts = [], {}

        def stage(fn, *args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except FamilyFailed as e:
                errors.append(str(e))
            except Exception as e:  # noqa: BLE001  (a crash in one stage is that stage's failure)
                errors.append("%s: %s" % (type(e).__name__, " ".join(str(e).split())[:600]))
            return None

        # conversions (ckpt detects the family of the TF fixture folder from its names and
        # config.json; the Keras fixture gets --model and --config)
        outs = {}
        for label, layout in (("tf->native", "native"), ("tf->tf", "tf"), ("tf->keras", "keras")):
            outs[label] = stage(self.expect_converted, family, label, fam_dir, layout)
        if family in HF_FAMILIES:
            outs["tf->hf"] = stage(self.expect_converted, family, "tf->hf", fam_dir, "hf")
        else:
            stage(self.expect_refused, family, "tf->hf", fam_dir, "hf", NO_HF[family])
            facts["hf"] = "refused as expected"
        if family in KERAS_TO_TF_REFUSED:
            stage(self.expect_refused, family, "keras->tf", h5_source, "tf",
                  KERAS_TO_TF_REFUSED[family], h5_args)
            facts["keras->tf"] = "refused as expected"
        else:
            outs["keras->tf"] = stage(self.expect_converted, family, "keras->tf", h5_source, "tf",
                                      h5_args)
        outs["keras->keras"] = stage(self.expect_converted, family, "keras->keras", h5_source,
                                     "keras", h5_args)
        stage(self.check_output_family, family,
              [(label, out) for label, out in outs.items() if out and label != "tf->hf"])

        # 1. TF checkpoints
        source = self.read_tf(src_prefix)
        tf_ok = []
        for label in ("tf->tf", "keras->tf"):
            if outs.get(label) and stage(self.check_tf, label,
                                         os.path.join(outs[label], "model.ckpt"), source):
                tf_ok.append(label)

        # 2. bert4keras predictions: each output against the source it was converted from
        batch = input_batch(self.np, family)
        refs = {"tf": stage(self.run_model, family, "source model.ckpt", config, batch,
                            checkpoint=src_prefix),
                "keras": stage(self.run_model, family, "source model.weights.h5", config, batch,
                               weights=src_h5)}
        pred_worst, nt_worst, loads, tried, n_outputs = 0.0, 0.0, 0, 0, 0
        for label in ("tf->tf", "tf->keras", "keras->tf", "keras->keras"):
            out, ref = outs.get(label), refs[label.split("->")[0]]
            if out is None or ref is None:
                continue
            n_outputs, tried = len(ref[0]), tried + 1
            load = (dict(checkpoint=os.path.join(out, "model.ckpt")) if label.endswith("->tf")
                    else dict(weights=os.path.join(out, "model.h5")))
            # the output's own config.json (written by ckpt) drives the build
            got = stage(self.run_model, family, label, os.path.join(out, "config.json"), batch,
                        **load)
            worst = got and stage(self.compare_model, label, ref, got)
            if worst:
                loads += 1
                pred_worst, nt_worst = max(pred_worst, worst[0]), max(nt_worst, worst[1])

        # 3. safetensors
        n_native = outs.get("tf->native") and stage(self.check_native, "%s tf->native" % family,
                                                    outs["tf->native"], source)
        if outs.get("tf->hf"):
            facts["hf"] = stage(self.check_hf, family, "tf->hf", outs["tf->hf"])

        tf_tried = sum(1 for label in ("tf->tf", "keras->tf") if outs.get(label))
        line = ("tf %d/%d ckpts x %d tensors identical; bert4keras %d/%d loads x %d outputs max "
                "%.1e" % (len(tf_ok), tf_tried, len(source), loads, tried, n_outputs, pred_worst))
        if nt_worst:
            line += " (non-trainable weights max %.1e)" % nt_worst
        line += "; native %s" % ("%d = source" % n_native if n_native else "-")
        line += "; hf %s" % (facts.get("hf") or "-")
        if "keras->tf" in facts:
            line += "; keras->tf %s" % facts["keras->tf"]
        return not errors, line, errors

    def check_output_family(self, family, outputs):
        wrong = {}
        for label, out in outputs:
            with open(os.path.join(out, "config.json")) as f:
                written = json.load(f).get("ckpt_family")
            if written != family:
                wrong.setdefault(written, []).append(label)
        if wrong:
            raise FamilyFailed("; ".join(
                "%s: ckpt converted as family %r (ckpt_family of the output config.json), but the "
                "fixture's config.json says ckpt_family %r" % (", ".join(labels), written, family)
                for written, labels in sorted(wrong.items(), key=str)))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", required=True, help="the ckpt binary")
    parser.add_argument("--work", required=True, help="scratch folder for the conversions")
    parser.add_argument("families", nargs="*", default=FAMILY_ORDER)
    args = parser.parse_args(argv)
    unknown = [f for f in args.families if f not in FAMILY_ORDER]
    if unknown:
        parser.error("unknown families: %s" % unknown)
    binary = os.path.abspath(args.ckpt)

    started = time.time()
    # oneDNN's fused kernels and thread splits change float rounding; pin them for stable diffs
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    try:
        import numpy as np
        import h5py  # noqa: F401  (Keras' HDF5 loader)
        import safetensors.numpy  # noqa: F401

        tf = generate.setup_tf(graph=True)
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        import bert4keras

        checker = Checker(binary, os.path.abspath(args.work), tf, np)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print("interop: cannot import the pinned environment (TensorFlow / keras / bert4keras / "
              "h5py / safetensors / numpy) in %s" % sys.prefix, file=sys.stderr)
        return 2
    print("interop: %s, tensorflow %s, keras %s, bert4keras %s, numpy %s (%.1f s to import)"
          % (binary, tf.__version__, tf.keras.__version__, bert4keras.__version__, np.__version__,
             time.time() - started), flush=True)

    passed, failed = 0, 0
    for family in args.families:
        t0 = time.time()
        try:
            ok, line, errors = checker.family(family)
            passed += ok
            failed += not ok
            print("%-16s %s %s (%.1f s)" % (family, "ok  " if ok else "FAIL", line,
                                             time.time() - t0), flush=True)
            for message in errors:
                print("    FAIL %s: %s" % (family, message), flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print("%-16s FAIL  %s: %s" % (family, type(e).__name__, " ".join(str(e).split())[:600]),
                  flush=True)
            traceback.print_exc()
    print("interop: %.1f s" % (time.time() - started), flush=True)
    print("interop: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
