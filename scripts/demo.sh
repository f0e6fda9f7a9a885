#!/usr/bin/env bash
# The main job on a bundled fixture: install what is needed, build in release, inspect a TF
# checkpoint and a Keras HDF5 file of the same BERT, then convert it to the native and the
# Hugging Face safetensors layouts and inspect the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product ckpt --static-swift-stdlib
ckpt=.build/release/ckpt
$ckpt inspect Fixtures/families/bert
$ckpt inspect Fixtures/families/bert/model.weights.h5 --filter 'Embedding-*'
$ckpt inspect --json --stats Fixtures/families/bert --filter 'bert/embeddings/*' | head -40
out=$(mktemp -d)
$ckpt convert Fixtures/families/bert --to "$out/bert-native"
$ckpt convert Fixtures/families/bert --to "$out/bert-hf" --layout hf --max-shard-size 16KB
$ckpt inspect "$out/bert-hf" --filter 'bert.encoder.layer.0.*'
rm -rf "$out"
