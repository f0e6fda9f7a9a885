#!/usr/bin/env bash
# The benchmark of docs/performance.md, in one command from the repository root:
#
#     bash bench/run.sh
#
# 1. builds ckpt (and ckpt-bench) in release under .build-bench/, unless $CKPT names a binary;
# 2. prepares the fixtures venv (TF 2.15.1, bert4keras, safetensors: Fixtures/generate.py's
#    bootstrap, Fixtures/.venv or $CKPT_FIXTURE_VENV);
# 3. generates the checkpoints under $BENCH_DIR with TF's own Saver, when missing (kept between
#    runs): base/ (BERT-base + adam slots, ~1.3 GB) and large/ (24 x 2048, ~5.1 GB);
# 4. runs bench/bench.py: every command timed as a whole process, in turn with its comparison,
#    peak RSS from /usr/bin/time -v; prints the table and writes it to $BENCH_DIR/results/.
#
# Environment:
#   BENCH_DIR      where the checkpoints, outputs and results go (default /tmp/ckpt-bench-data;
#                  needs ~7 GB for the checkpoints plus ~11 GB while the large case runs)
#   BENCH_REPS     timed repetitions of each command (default 5), after one warm-up
#   BENCH_LARGE=0  skip the >= 4 GB case
#   BENCH_LARGE_PY_REPS  repetitions of the Python pipelines on the large case (default 3; they
#                  take 20-50 s a run; the transformers one needs ~11 GB of RAM)
#   BENCH_LARGE_HF=0     skip the transformers pipeline on the large case
#   CKPT           a ckpt release binary to use instead of building one
#   CKPT_BENCH     a ckpt-bench release binary (per-pass forward); default: built beside ckpt,
#                  or taken from CKPT's folder
#   CKPT_FIXTURE_VENV, CKPT_FIXTURE_HF_VENV   the venvs (as for Fixtures/generate.py); the
#                  transformers row runs only when the hf venv already exists ("where installed"):
#                  this script never installs torch
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH_DIR="${BENCH_DIR:-/tmp/ckpt-bench-data}"
BENCH_REPS="${BENCH_REPS:-5}"
BENCH_LARGE="${BENCH_LARGE:-1}"
BENCH_LARGE_PY_REPS="${BENCH_LARGE_PY_REPS:-3}"
BENCH_LARGE_HF="${BENCH_LARGE_HF:-1}"
start=$(date +%s)

say() { printf 'bench: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        say "need root (or sudo) to run: $*"; exit 1; fi
}

# -- system tools: GNU time for the peak RSS; python3 for the harness and the venv bootstrap
missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} with apt-get"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# -- ckpt in release
if [ -n "${CKPT:-}" ]; then
    CKPT="$(cd "$(dirname "$CKPT")" && pwd)/$(basename "$CKPT")"
    [ -x "$CKPT" ] || { say "CKPT=$CKPT is not executable"; exit 1; }
    if [ -z "${CKPT_BENCH:-}" ] && [ -x "$(dirname "$CKPT")/ckpt-bench" ]; then
        CKPT_BENCH="$(dirname "$CKPT")/ckpt-bench"
    fi
else
    pkgs=()
    for p in pkg-config libprotobuf-c-dev libhdf5-dev libopenblas-dev zlib1g-dev; do
        dpkg -s "$p" >/dev/null 2>&1 || pkgs+=("$p")
    done
    if [ "${#pkgs[@]}" -gt 0 ]; then
        say "installing ${pkgs[*]} with apt-get"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}"
    fi
    command -v swift >/dev/null || { say "swift (a Swift 6 toolchain) is not on PATH"; exit 1; }
    # As the README installs it (scripts/demo.sh): the Swift runtime and Foundation linked in,
    # which saves every process ~6 ms of dynamic linking.
    say "building ckpt and ckpt-bench in release (.build-bench, --static-swift-stdlib)"
    swift build -c release --static-swift-stdlib --product ckpt --scratch-path .build-bench >&2
    swift build -c release --static-swift-stdlib --product ckpt-bench --scratch-path .build-bench >&2
    bin="$(swift build -c release --static-swift-stdlib --scratch-path .build-bench --show-bin-path)"
    CKPT="$bin/ckpt"
    CKPT_BENCH="${CKPT_BENCH:-$bin/ckpt-bench}"
fi
[ -n "${CKPT_BENCH:-}" ] && [ ! -x "$CKPT_BENCH" ] && { say "no ckpt-bench at $CKPT_BENCH"; CKPT_BENCH=""; }

# -- checkpoints (make_checkpoints.py creates/fills the fixtures venv and re-executes inside it)
mkdir -p "$BENCH_DIR"
cases=(base)
[ "$BENCH_LARGE" = 0 ] || cases+=(large)
for c in "${cases[@]}"; do
    if [ ! -f "$BENCH_DIR/$c/.complete" ]; then
        say "generating the $c checkpoint in $BENCH_DIR/$c (TF Saver)"
        python3 bench/make_checkpoints.py "$c" "$BENCH_DIR/$c"
    fi
done
python3 -c 'import sys; sys.path.insert(0, "Fixtures"); import generate; generate.prepare_venv("main")' >&2
PY="$(python3 -c 'import sys; sys.path.insert(0, "Fixtures"); import generate; print(generate._venv_python(generate._venv_dir("main")))')"

# -- the transformers pipeline only where installed
HF_PY="$(python3 -c 'import sys; sys.path.insert(0, "Fixtures"); import generate; print(generate._venv_python(generate._venv_dir("hf")))')"
if [ -x "$HF_PY" ] && "$HF_PY" -c 'import transformers, torch, tensorflow' 2>/dev/null; then
    hf_args=(--hf-python "$HF_PY")
else
    say "transformers not installed (no hf venv at $(dirname "$(dirname "$HF_PY")")): its row is n/a"
    hf_args=()
fi

python3 bench/bench.py --ckpt "$CKPT" ${CKPT_BENCH:+--ckpt-bench "$CKPT_BENCH"} \
    --data "$BENCH_DIR" --python "$PY" "${hf_args[@]}" --reps "$BENCH_REPS" \
    --large "$([ "$BENCH_LARGE" = 0 ] && echo 0 || echo 1)" \
    --large-py-reps "$BENCH_LARGE_PY_REPS" --large-hf "$BENCH_LARGE_HF"
say "total $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s;" \
    "disk used by $BENCH_DIR: $(du -sh "$BENCH_DIR" | cut -f1)"
