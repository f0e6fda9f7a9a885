#!/usr/bin/env bash
# The test command (CI runs exactly this): install what is needed, then
#   0. the style gate (scripts/lint.sh: swift-format, lines of at most 120 columns);
#   1. the whole Swift test suite (XCTest);
#   2. a fuzzing smoke: every libFuzzer target for a few seconds from the fixture seeds, with a
#      fixed random seed so that a run explores the same mutations each time (a new finding
#      should come from a change, not from luck); long campaigns with fresh seeds are run by
#      hand (scripts/fuzz.sh, see docs/robustness.md);
#   3. the interop test against the real TensorFlow, bert4keras and safetensors, in its own
#      pinned venv (scripts/interop.sh; built from PyPI on first use, then cached);
#   4. the GGUF interop test against llama.cpp itself (scripts/interop-gguf.sh: llama-cpp-python
#      built from PyPI's source on first use, then cached).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/lint.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing
bash scripts/fuzz.sh all "${CKPT_FUZZ_SMOKE_SECONDS:-10}" -seed="${CKPT_FUZZ_SMOKE_SEED:-1}"
bash scripts/interop.sh
bash scripts/interop-gguf.sh
