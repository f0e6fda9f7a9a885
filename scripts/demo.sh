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
# A Hugging Face Hub folder (BertForMaskedLM saved by transformers, pytorch_model.bin beside
# model.safetensors) to the TF layout bert4keras builds from; the summary prints the call.
$ckpt inspect Fixtures/hub/bert_mlm/pytorch_model.bin --filter cls.
$ckpt convert Fixtures/hub/bert_mlm/pytorch_model.bin --to "$out/bert-tf" --layout tf
$ckpt tokenize Fixtures/hub/bert_mlm --text "Hello world!" --pair "good!" --json
rm -rf "$out"
# The man page (generated from the parser: docs/ckpt.1), where man finds it when we may write there.
if [ -w /usr/local/share/man ] || { [ ! -e /usr/local/share/man ] && [ -w /usr/local/share ]; }; then
    install -D -m 644 docs/ckpt.1 /usr/local/share/man/man1/ckpt.1
    echo "man page: man ckpt"
else
    echo "man page: man -l docs/ckpt.1"
fi
$ckpt --version
