#!/usr/bin/env bash
# Regenerates the committed protobuf-c code from Protos/. Run by hand after editing a .proto;
# CI never runs it. Needs protoc-c (Debian: protobuf-c-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc-c >/dev/null || { echo "protoc-c not found: apt-get install protobuf-c-compiler" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for proto in tensor_bundle sentencepiece_model; do
    protoc-c --proto_path=Protos --c_out="$tmp" "Protos/$proto.proto"
    mv "$tmp/$proto.pb-c.h" "Sources/CProtos/include/$proto.pb-c.h"
    mv "$tmp/$proto.pb-c.c" "Sources/CProtos/$proto.pb-c.c"
done
echo "generated Sources/CProtos from Protos/*.proto with $(protoc-c --version | head -1)"
