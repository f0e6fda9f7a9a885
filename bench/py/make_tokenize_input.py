"""The input of the tokenize row: transformers' tokenizer files for VOCAB_TXT (BertTokenizerFast:
tokenizer.json for Hugging Face `tokenizers`, tokenizer_config.json for ckpt) in FOLDER, and
LINES_FILE with 450,000 lines: Fixtures/tokenizers/corpus.txt (many scripts) repeated.
Usage: python bench/py/make_tokenize_input.py VOCAB_TXT FOLDER LINES_FILE   (hf venv)
"""
import os
import sys

from transformers import BertTokenizerFast

vocab, folder, lines_file = sys.argv[1:4]
BertTokenizerFast(vocab_file=vocab).save_pretrained(folder)
corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Fixtures", "tokenizers", "corpus.txt")
with open(corpus, encoding="utf-8") as f:
    lines = [line for line in f.read().split("\n") if line]
with open(lines_file, "w", encoding="utf-8") as f:
    for i in range(450_000):
        f.write(lines[i % len(lines)] + "\n")
