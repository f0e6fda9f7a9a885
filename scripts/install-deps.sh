#!/usr/bin/env bash
# Installs the Debian packages ckpt builds against, when any is missing. Swift itself is expected
# on PATH (swift.org toolchain). Safe to run again: does nothing when all are present.
set -euo pipefail
packages=(pkg-config libprotobuf-c-dev libhdf5-dev libopenblas-dev zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift not found on PATH: install a Swift 6 toolchain" >&2; exit 1; }
