#!/usr/bin/env bash
# Style gate (CI runs it first): swift-format's formatting as .swift-format configures it
# (4-space indents, lines of at most 120 columns), the 120-column limit itself, which
# swift-format cannot enforce on a string literal it may not break, and no function or
# initializer in Sources longer than 60 lines.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Sources Tests Benchmarks Plugins Package.swift)
swift format lint --strict --recursive "${paths[@]}"
python3 - "${paths[@]}" <<'PY'
import pathlib, re, sys
long = []
decl = re.compile(r"^(\s*)(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|internal|fileprivate|static|mutating|"
                  r"override|final|convenience|nonisolated)\s+)*(?:func|init)\b")
for root in sys.argv[1:]:
    p = pathlib.Path(root)
    for f in ([p] if p.is_file() else sorted(p.rglob("*.swift"))):
        lines = f.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, 1):
            if len(line) > 120:
                long.append(f"{f}:{n}: {len(line)} columns")
        if not str(f).startswith("Sources"):
            continue
        for n, line in enumerate(lines):
            m = decl.match(line)
            if not m:
                continue
            indent = m.group(1)
            if "{" in line and line.count("{") == line.count("}"):
                continue  # a one-line function
            for k in range(n + 1, len(lines)):
                closing = lines[k]
                if closing.startswith(indent + "}") and closing[len(indent) + 1:len(indent) + 2] in ("", " ", "/"):
                    if k - n + 1 > 60:
                        long.append(f"{f}:{n + 1}: a function of {k - n + 1} lines (at most 60)")
                    break
print("\n".join(long), file=sys.stderr)
sys.exit(1 if long else 0)
PY
echo "lint: formatted, every line within 120 columns, every function within 60 lines" >&2
