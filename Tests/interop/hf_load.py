"""Interop check (not run in CI: it needs torch): the safetensors library and transformers load
what `ckpt convert --layout hf` wrote, sharded or not, and the weights equal what transformers'
own TF loaders produced (the goldens of Fixtures/generate.py).

Usage: python Tests/interop/hf_load.py CKPT_BINARY   (inside the venv of Fixtures/requirements-hf.txt)
"""
import json, os, subprocess, sys, tempfile

import numpy as np
import safetensors.numpy
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES = [("families/bert", "BertForPreTraining"), ("families/albert", "AlbertForPreTraining"),
         ("families/electra", "ElectraForPreTraining"), ("families/roformer", "RoFormerForMaskedLM"),
         ("families/nezha", "NezhaForPreTraining"),
         ("families/t5.1.0", "T5ForConditionalGeneration"), ("families/t5.1.1", "T5ForConditionalGeneration"),
         ("special/gpt2_openai", "GPT2LMHeadModel")]


def main(ckpt):
    failures = 0
    for rel, cls in CASES:
        src = os.path.join(ROOT, "Fixtures", rel)
        golden = safetensors.numpy.load_file(os.path.join(src, "golden.hf.safetensors"))
        for shard in (None, "4KB"):
            out = tempfile.mkdtemp() + "/out"
            args = [ckpt, "convert", src, "--to", out, "--layout", "hf"] + (["--max-shard-size", shard] if shard else [])
            subprocess.run(args, check=True, stderr=subprocess.DEVNULL)
            files = sorted(os.listdir(out))
            if shard:
                index = json.load(open(os.path.join(out, "model.safetensors.index.json")))
                loaded = {}
                for f in sorted(set(index["weight_map"].values())):
                    loaded.update(safetensors.numpy.load_file(os.path.join(out, f)))
            else:
                loaded = safetensors.numpy.load_file(os.path.join(out, "model.safetensors"))
            model = getattr(transformers, cls).from_pretrained(out)
            state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
            bad = [k for k in golden if k in state and not np.array_equal(golden[k], state[k])]
            bad += [k for k in loaded if not np.array_equal(loaded[k], golden[k])]
            status = "ok" if not bad else f"MISMATCH {bad[:4]}"
            failures += bool(bad)
            print(f"{rel:24} {'sharded ' + shard if shard else 'single':14} {len(files)} files, "
                  f"{len(loaded)} tensors, from_pretrained {cls}: {status}")
    print(f"{len(CASES) * 2 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
