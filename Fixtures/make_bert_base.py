#!/usr/bin/env python3
"""Writes a BERT-base-sized TF 1.x checkpoint with Google's variable names, for benchmarks.

    python3 Fixtures/make_bert_base.py [PREFIX]
    # default PREFIX: /tmp/ckpt-bench/bert_base/bert_model.ckpt

12 layers, hidden 768, 12 heads, intermediate 3072, vocab 21128 (Chinese BERT), 512 positions,
2 token types, plus bert/pooler and cls/predictions + cls/seq_relationship: 102.9M float32
values, ~412 MB. Random values (numpy, fixed seed), written by tf.compat.v1.train.Saver in graph
mode; bert_config.json is written beside it. Nothing is written under Fixtures/ -- the output is
never committed.

Uses the same virtual environment as generate.py (Fixtures/.venv or $CKPT_FIXTURE_VENV; created
and filled by generate.py's bootstrap if missing) and re-executes itself inside it.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402  (venv bootstrap + setup_tf)

CONFIG = {
    "attention_probs_dropout_prob": 0.1,
    "directionality": "bidi",
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pooler_fc_size": 768,
    "pooler_num_attention_heads": 12,
    "pooler_num_fc_layers": 3,
    "pooler_size_per_head": 128,
    "pooler_type": "first_token_transform",
    "type_vocab_size": 2,
    "vocab_size": 21128,
}


def bert_variables(c):
    """(name, shape) in the order of Google's modeling.py / run_pretraining.py."""
    h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    out = [
        ("bert/embeddings/word_embeddings", [v, h]),
        ("bert/embeddings/token_type_embeddings", [c["type_vocab_size"], h]),
        ("bert/embeddings/position_embeddings", [c["max_position_embeddings"], h]),
        ("bert/embeddings/LayerNorm/beta", [h]),
        ("bert/embeddings/LayerNorm/gamma", [h]),
    ]
    for n in range(c["num_hidden_layers"]):
        p = "bert/encoder/layer_%d/" % n
        for part in ("query", "key", "value"):
            out += [(p + "attention/self/%s/kernel" % part, [h, h]),
                    (p + "attention/self/%s/bias" % part, [h])]
        out += [
            (p + "attention/output/dense/kernel", [h, h]),
            (p + "attention/output/dense/bias", [h]),
            (p + "attention/output/LayerNorm/beta", [h]),
            (p + "attention/output/LayerNorm/gamma", [h]),
            (p + "intermediate/dense/kernel", [h, i]),
            (p + "intermediate/dense/bias", [i]),
            (p + "output/dense/kernel", [i, h]),
            (p + "output/dense/bias", [h]),
            (p + "output/LayerNorm/beta", [h]),
            (p + "output/LayerNorm/gamma", [h]),
        ]
    out += [
        ("bert/pooler/dense/kernel", [h, h]),
        ("bert/pooler/dense/bias", [h]),
        ("cls/predictions/transform/dense/kernel", [h, h]),
        ("cls/predictions/transform/dense/bias", [h]),
        ("cls/predictions/transform/LayerNorm/beta", [h]),
        ("cls/predictions/transform/LayerNorm/gamma", [h]),
        ("cls/predictions/output_bias", [v]),
        ("cls/seq_relationship/output_weights", [2, h]),
        ("cls/seq_relationship/output_bias", [2]),
    ]
    return out


def main(argv):
    prefix = os.path.abspath(argv[0] if argv else "/tmp/ckpt-bench/bert_base/bert_model.ckpt")
    fixtures = os.path.dirname(os.path.abspath(__file__))
    if os.path.commonpath([prefix, fixtures]) == fixtures:
        sys.exit("make_bert_base.py: refusing to write under Fixtures/ (output is not committed)")
    generate.ensure_venv()  # re-executes this script inside the venv if needed
    import numpy as np

    tf = generate.setup_tf(graph=True)
    directory = os.path.dirname(prefix)
    os.makedirs(directory, exist_ok=True)
    t0 = time.time()
    rng = np.random.default_rng(20240601)
    specs = bert_variables(CONFIG)
    with tf.Graph().as_default():
        variables = [
            tf.compat.v1.get_variable(name, shape=shape, dtype=tf.float32,
                                      initializer=tf.compat.v1.zeros_initializer())
            for name, shape in specs
        ]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            total = 0
            for var, (name, shape) in zip(variables, specs):
                value = rng.standard_normal(shape, dtype=np.float32)
                value *= 0.02
                if name.endswith("/gamma"):
                    value += 1.0
                var.load(value, sess)  # fed through a placeholder, not baked into the graph
                total += value.size
            saver = tf.compat.v1.train.Saver(variables)
            saver.save(sess, prefix, write_meta_graph=False, write_state=True)
    with open(os.path.join(directory, "bert_config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory)
               if f.startswith(os.path.basename(prefix) + "."))
    print("make_bert_base.py: %d variables, %d values, %.1f MB at %s (%.1f s)"
          % (len(specs), total, size / 1e6, prefix, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
