#!/usr/bin/env bash
# The test command (CI runs exactly this): install what is needed, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing
