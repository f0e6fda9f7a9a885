"""The yardstick of `ckpt tokenize --file`: Hugging Face `tokenizers` (Rust) from a tokenizer.json,
`encode_batch` of every line with padding and truncation off, ids written one line per input as
ckpt writes them (so the two outputs can be compared byte for byte).

Usage: python bench/py/tokenize_hf.py TOKENIZER_JSON LINES_FILE OUT_FILE   (hf venv: tokenizers 0.20.3)
"""
import sys

from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1])
tok.no_padding()
tok.no_truncation()
lines = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
with open(sys.argv[3], "w") as f:
    for e in tok.encode_batch(lines):
        f.write(",".join(map(str, e.ids)) + "\n")
