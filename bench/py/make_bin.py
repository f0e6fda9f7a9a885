"""Writes FOLDER/pytorch_model.bin (torch.save of the state dict, torch's zip format) from
FOLDER/model.safetensors, as save_pretrained(safe_serialization=False) would: the source of the
`.bin -> native` row. Usage: python bench/py/make_bin.py FOLDER   (hf venv: torch, safetensors)
"""
import os
import sys

import torch
from safetensors.torch import load_file

folder = sys.argv[1]
torch.save(load_file(os.path.join(folder, "model.safetensors")), os.path.join(folder, "pytorch_model.bin"))
