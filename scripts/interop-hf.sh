#!/usr/bin/env bash
# Interop check against the real transformers and safetensors (not part of CI: torch is large).
# Creates the pinned venv of Fixtures/requirements-hf.txt at $CKPT_FIXTURE_HF_VENV
# (default Fixtures/.venv-hf) when missing, builds ckpt and runs Tests/interop/hf_load.py.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${CKPT_FIXTURE_HF_VENV:-Fixtures/.venv-hf}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r Fixtures/requirements-hf.txt
fi
swift build -c release --product ckpt
"$venv/bin/python" Tests/interop/hf_load.py "$PWD/.build/release/ckpt"
