#!/usr/bin/env bash
# Benchmark (not a test): `stetho compile` over 3,200 rules (the 400
# SigmaHQ corpus rules copied 8 times with fresh ids), for Defender XDR and
# Sentinel, next to pySigma's Kusto backend (`sigma convert -t kusto`) on the
# same 3,200 rules. Prints CPU time (user+sys), the median of 11 runs for
# stetho (its system time varies from run to run on a shared machine) and
# of 3 for pySigma (each run takes seconds).
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
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] }'; }
# CPU seconds (user + system) of one run of a command, output discarded;
# from the kernel's accounting of the child, to the microsecond (GNU
# time's %U and %S round to hundredths).
cpu_of() {
  python3 -c 'import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, _, usage = os.wait4(p.pid, 0)
print(f"{usage.ru_utime + usage.ru_stime:.4f}")' "$@"
}
declare -A stetho_cpu
for pipeline in defender_xdr sentinel; do
  cpu=$(for run in $(seq 11); do
    cpu_of ./target/release/stetho compile --no-config --quiet \
      --pipeline "$pipeline" --format jsonl "$work/rules"
  done | median)
  echo "stetho compile --pipeline $pipeline: median of 11: ${cpu} s CPU"
  stetho_cpu[$pipeline]=$cpu
done
venv=target/bench-venv
if [ ! -x "$venv/bin/sigma" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r scripts/bench/requirements-pysigma.txt
fi
cpu=$(for run in 1 2 3; do
  cpu_of "$venv/bin/sigma" convert -t kusto -p microsoft_xdr --skip-unsupported \
    -o /dev/null "$work/rules"
done | median)
echo "sigma convert -t kusto -p microsoft_xdr (pySigma): median of 3: ${cpu} s CPU"
for pipeline in defender_xdr sentinel; do
  awk -v p="$cpu" -v s="${stetho_cpu[$pipeline]}" -v n="$pipeline" \
    'BEGIN { printf "pySigma / stetho (%s): %.0f times the CPU time\n", n, p / s }'
done
