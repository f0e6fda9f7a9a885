#!/usr/bin/env bash
# Interop test (CI): TensorFlow, bert4keras and safetensors read what ckpt writes, for every
# family of Fixtures/families (see Tests/interop/bert4keras_interop.py for the checks).
#
#   CKPT               the ckpt binary to test (default .build/debug/ckpt; not built here)
#   CKPT_INTEROP_VENV  the pinned venv (Fixtures/requirements.txt: tensorflow-cpu 2.15.1, keras
#                      2.15, bert4keras 0.11.5, h5py, safetensors, numpy<2), created from PyPI
#                      when missing and kept between runs. Default /var/cache/ckpt/interop-venv
#                      when writable, else ${XDG_CACHE_HOME:-~/.cache}/ckpt/interop-venv.
#   extra arguments    family names, to check only those
#
# Fails (never skips) when the venv cannot be built or imported.
set -euo pipefail
ckpt=${CKPT:-}
case "$ckpt" in "") ;; /*) ;; *) ckpt=$PWD/$ckpt ;; esac  # relative to the caller's folder
cd "$(dirname "$0")/.."
ckpt=${ckpt:-.build/debug/ckpt}

die() { echo "interop: $*" >&2; exit 1; }

[ -x "$ckpt" ] || die "no ckpt binary at $ckpt (build it first, or set CKPT)"
command -v python3 >/dev/null || die "python3 not found (needed to create the venv)"

if [ -n "${CKPT_INTEROP_VENV:-}" ]; then
    venv=$CKPT_INTEROP_VENV
elif mkdir -p /var/cache/ckpt 2>/dev/null && [ -w /var/cache/ckpt ]; then
    venv=/var/cache/ckpt/interop-venv
else
    venv=${XDG_CACHE_HOME:-$HOME/.cache}/ckpt/interop-venv
fi
mkdir -p "$(dirname "$venv")" || die "cannot create the parent folder of the venv $venv"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bootstrap() {
    # A venv whose interpreter no longer runs (e.g. its base Python was removed) is rebuilt.
    if [ -f "$venv/pyvenv.cfg" ] && ! "$venv/bin/python" -c '' 2>/dev/null; then
        echo "interop: $venv is broken; recreating it" >&2
        rm -rf "$venv"
    fi
    # generate.py's bootstrap: creates the venv with a Python 3.9-3.11 (CKPT_FIXTURE_PYTHON picks
    # one), installs the pins of Fixtures/requirements.txt (bert4keras with --no-deps) when they
    # are not all satisfied; a no-op on a warm venv.
    CKPT_FIXTURE_VENV="$venv" python3 -c '
import sys
sys.path.insert(0, "Fixtures")
import generate
generate.prepare_venv("main")
'
}

status=0
if command -v flock >/dev/null; then
    # two jobs sharing the cache must not install into the same venv at once
    (flock 9 && bootstrap) 9>"$venv.lock" || status=$?
else
    bootstrap || status=$?
fi
[ "$status" -eq 0 ] || die "cannot build the pinned venv at $venv (exit $status): it needs PyPI access and a Python 3.9-3.11; see the output above"

echo "interop: venv $venv" >&2
status=0
"$venv/bin/python" Tests/interop/bert4keras_interop.py --ckpt "$ckpt" --work "$tmp" "$@" || status=$?
# Hub folders (Fixtures/hub, the real all-MiniLM-L6-v2) -> tf/keras -> bert4keras = transformers
if [ $# -eq 0 ]; then
    "$venv/bin/python" Tests/interop/hub_interop.py --ckpt "$ckpt" --work "$tmp/hub" || status=$?
fi
exit $status
