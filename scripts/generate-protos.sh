#!/usr/bin/env bash
# Regenerates the committed protobuf-c code from Protos/. Run by hand after editing a .proto;
# CI never runs it. Needs protoc-c (Debian: protobuf-c-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc-c >/dev/null || { echo "protoc-c not found: apt-get install protobuf-c-compiler" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc-c --proto_path=Protos --c_out="$tmp" Protos/tensor_bundle.proto
mv "$tmp/tensor_bundle.pb-c.h" Sources/CTFProto/include/tensor_bundle.pb-c.h
mv "$tmp/tensor_bundle.pb-c.c" Sources/CTFProto/tensor_bundle.pb-c.c
echo "generated Sources/CTFProto from Protos/tensor_bundle.proto with $(protoc-c --version | head -1)"
