#!/usr/bin/env bash
# Style gate (CI runs it first): swift-format's formatting as .swift-format configures it
# (4-space indents, lines of at most 120 columns), and the 120-column limit itself, which
# swift-format cannot enforce on a string literal it may not break.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Sources Tests Benchmarks Plugins Package.swift)
swift format lint --strict --recursive "${paths[@]}"
python3 - "${paths[@]}" <<'PY'
import pathlib, sys
long = []
for root in sys.argv[1:]:
    p = pathlib.Path(root)
    for f in ([p] if p.is_file() else sorted(p.rglob("*.swift"))):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if len(line) > 120:
                long.append(f"{f}:{n}: {len(line)} columns")
print("\n".join(long), file=sys.stderr)
sys.exit(1 if long else 0)
PY
echo "lint: formatted, every line within 120 columns" >&2
