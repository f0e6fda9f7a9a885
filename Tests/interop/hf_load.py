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
            model, info = getattr(transformers, cls).from_pretrained(out, output_loading_info=True)
            state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
            # transformers 4.46.3 reloads ALBERT's MLM bias from safetensors as zeros (the load unties
            # predictions.bias and decoder.bias, then re-ties to the fresh zero decoder.bias); the
            # file's values are compared below
            quirk = ("predictions.bias", "predictions.decoder.bias") if cls.startswith("Albert") else ()
            bad = [k for k in golden if k in state and k not in quirk and not np.array_equal(golden[k], state[k])]
            # "newly initialized" (missing) or ignored (unexpected) weights: none
            bad += ["missing " + k for k in info["missing_keys"]] + ["unexpected " + k for k in info["unexpected_keys"]]
            auto = json.load(open(os.path.join(out, "config.json")))["architectures"][0]
            bad += [] if auto == cls else ["architectures says " + auto]
            bad += [k for k in loaded if not np.array_equal(loaded[k], golden[k])]
            status = "ok" if not bad else f"MISMATCH {bad[:4]}"
            failures += bool(bad)
            print(f"{rel:24} {'sharded ' + shard if shard else 'single':14} {len(files)} files, "
                  f"{len(loaded)} tensors, from_pretrained {cls}: {status}")
    hub_failures = hub_round_trips(ckpt)
    print(f"{len(CASES) * 2 - failures} passed, {failures} failed; hub round trips: {hub_failures} failed")
    return 1 if failures or hub_failures else 0


def hub_round_trips(ckpt):
    """Fixtures/hub BERT-like folders -> tf (their tokenizer files removed, as a TF release has
    none) -> hf: transformers loads the model with no missing or unexpected key, AutoTokenizer
    loads the tokenizer ckpt described and gives the ids of the golden, and the outputs equal
    transformers' own (golden.outputs.npz)."""
    import torch

    failures = 0
    root = os.path.join(ROOT, "Fixtures", "hub")
    for case in sorted(os.listdir(root)):
        folder = os.path.join(root, case)
        golden = json.load(open(os.path.join(folder, "golden.json")))
        if not os.path.exists(os.path.join(folder, "vocab.txt")):
            continue
        work = tempfile.mkdtemp()
        subprocess.run([ckpt, "convert", folder, "--to", work + "/tf", "--layout", "tf"], check=True,
                       stderr=subprocess.DEVNULL)
        for f in ("tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"):
            if os.path.exists(os.path.join(work, "tf", f)):
                os.remove(os.path.join(work, "tf", f))
        subprocess.run([ckpt, "convert", work + "/tf", "--to", work + "/hf", "--layout", "hf"], check=True,
                       stderr=subprocess.DEVNULL)
        arch = json.load(open(work + "/hf/config.json"))["architectures"][0]
        model, info = getattr(transformers, arch).from_pretrained(work + "/hf", output_loading_info=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(work + "/hf")
        has_pooler = any("pooler" in k for k in safetensors.numpy.load_file(work + "/hf/model.safetensors"))
        # a checkpoint without a pooler (BertForQuestionAnswering's) has no class that lacks one
        info["missing_keys"] = [k for k in info["missing_keys"] if has_pooler or "pooler" not in k]
        ids = tokenizer(*golden["text_pair"])["input_ids"] if "text_pair" in golden else None
        problems = ["missing " + k for k in info["missing_keys"]]
        if ids is not None and ids != golden["inputs"]["input_ids"]:
            problems.append("tokenizer ids %s" % ids)
        with torch.no_grad():
            inputs = {k: torch.tensor([v]) for k, v in golden["inputs"].items()}
            base = getattr(model, model.base_model_prefix, model)
            hidden = base(**inputs).last_hidden_state[0].numpy()
        worst = float(np.abs(hidden - np.load(os.path.join(folder, "golden.outputs.npz"))["last_hidden_state"]).max())
        if worst > 1e-5:
            problems.append("last hidden state differs by %.3g" % worst)
        failures += bool(problems)
        print(f"hub {case:20} -> tf -> hf: {arch}, {type(tokenizer).__name__}: "
              + ("ok" if not problems else "FAIL " + "; ".join(problems)))
    return failures


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
