#!/usr/bin/env bash
# Benchmark (not a test): `stetho compile` over 3,200 rules (the 400
# SigmaHQ corpus rules copied 8 times with fresh ids), for Defender XDR and
# Sentinel, next to pySigma's Kusto backend (`sigma convert -t kusto`) on the
# same 3,200 rules. Prints CPU time (user+sys) of the median of 3 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import pathlib, re, sys, uuid
out = pathlib.Path(sys.argv[1]) / "rules"
src = sorted(p for p in pathlib.Path("tests/corpus/sigmahq").rglob("*.yml") if "_sigma-specification" not in p.parts)
for copy in range(8):
    for i, path in enumerate(src):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^id: .*$", f"id: {uuid.UUID(int=copy * 100000 + i + 1, version=4)}", text, count=1, flags=re.M)
        target = out / f"c{copy}" / path.relative_to("tests/corpus/sigmahq")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
PY
echo "rules: $(find "$work/rules" -name '*.yml' | wc -l)"
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] }'; }
for pipeline in defender_xdr sentinel; do
  cpu=$(for run in 1 2 3; do
    { /usr/bin/env time -f "%U %S" ./target/release/stetho compile --no-config --quiet \
      --pipeline "$pipeline" --format jsonl "$work/rules" 2>&1 >/dev/null || true; } | tail -1 | awk '{ print $1 + $2 }'
  done | median)
  echo "stetho compile --pipeline $pipeline: median of 3: ${cpu} s CPU"
done
venv=target/bench-venv
if [ ! -x "$venv/bin/sigma" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r scripts/bench/requirements-pysigma.txt
fi
cpu=$(for run in 1 2 3; do
  { /usr/bin/env time -f "%U %S" "$venv/bin/sigma" convert -t kusto -p microsoft_xdr --skip-unsupported \
    -o /dev/null "$work/rules" 2>&1 >/dev/null || true; } | tail -1 | awk '{ print $1 + $2 }'
done | median)
echo "sigma convert -t kusto -p microsoft_xdr (pySigma): median of 3: ${cpu} s CPU"
