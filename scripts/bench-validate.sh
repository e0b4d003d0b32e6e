#!/usr/bin/env bash
# Benchmark (not a test): `stetho validate` over 3,200 rules, made from the
# 400 SigmaHQ corpus rules copied 8 times with fresh ids and titles so the
# cross-rule checks see a realistic set. Prints wall and CPU time of the
# median of 5 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import pathlib, re, sys, uuid
out = pathlib.Path(sys.argv[1])
src = sorted(p for p in pathlib.Path("tests/corpus/sigmahq").rglob("*.yml") if "_sigma-specification" not in p.parts)
for copy in range(8):
    for i, path in enumerate(src):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^id: .*$", f"id: {uuid.UUID(int=copy * 100000 + i + 1, version=4)}", text, count=1, flags=re.M)
        text = re.sub(r"^title: (.*)$", rf"title: \1 (copy {copy})", text, count=1, flags=re.M)
        target = out / f"c{copy}" / path.relative_to("tests/corpus/sigmahq")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
PY
count=$(find "$work" -name '*.yml' | wc -l)
echo "rules: $count"
for run in 1 2 3 4 5; do
  /usr/bin/env time -f "%e %U %S" ./target/release/stetho validate --no-config --quiet "$work" 2>&1 >/dev/null | tail -1
done | sort -n | awk 'NR==3 { printf "median of 5: %.2f s wall, %.2f s CPU (user+sys)\n", $1, $2 + $3 }'
