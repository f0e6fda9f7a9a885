#!/usr/bin/env python3
"""The Hugging Face route from a Google BERT TF checkpoint to safetensors.

    python convert_transformers.py PREFIX BERT_CONFIG OUTDIR

What transformers' own convert_bert_original_tf_checkpoint_to_pytorch does: BertConfig from the
bert_config.json, BertForPreTraining(config), load_tf_weights_in_bert (tf.train.list_variables +
tf.train.load_variable per variable; it skips adam_m, adam_v and global_step), then
model.save_pretrained(OUTDIR) (model.safetensors + config.json). Run in the hf venv (transformers +
torch + TensorFlow); timed as a whole process; prints pipeline_seconds= (without the imports).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.quiet_tf()
import tensorflow  # noqa: E402,F401  (load_tf_weights_in_bert imports it inside; counted here)
import torch  # noqa: E402
from transformers import BertConfig, BertForPreTraining  # noqa: E402
from transformers.models.bert.modeling_bert import load_tf_weights_in_bert  # noqa: E402
from transformers.utils import logging  # noqa: E402


def main(prefix, config_path, outdir):
    logging.set_verbosity_error()
    start = time.perf_counter()
    config = BertConfig.from_json_file(config_path)
    model = BertForPreTraining(config)
    load_tf_weights_in_bert(model, config, prefix)
    model.save_pretrained(outdir, safe_serialization=True)
    common.report(start)


if __name__ == "__main__":
    torch.set_num_threads(os.cpu_count() or 1)
    main(*sys.argv[1:4])
