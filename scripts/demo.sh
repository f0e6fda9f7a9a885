#!/usr/bin/env bash
# The main job on a bundled fixture: install what is needed, build in release, inspect a TF
# checkpoint and a Keras HDF5 file of the same BERT, and print the JSON listing's head.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product ckpt --static-swift-stdlib
ckpt=.build/release/ckpt
$ckpt inspect Fixtures/families/bert
$ckpt inspect Fixtures/families/bert/model.weights.h5 --filter 'Embedding-*'
$ckpt inspect --json --stats Fixtures/families/bert --filter 'bert/embeddings/*' | head -40
