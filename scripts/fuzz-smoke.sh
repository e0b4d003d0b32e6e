#!/usr/bin/env bash
# Fuzz smoke run (fuzz/README.md): build the cargo-fuzz targets once, put
# together a seed corpus from the repository's rules and events, and run
# each target for a few seconds. Any crash, timeout or out-of-memory fails
# the script; libFuzzer leaves the input under fuzz/artifacts/TARGET/.
#
# Works on the stable toolchain: without a sanitizer cargo-fuzz passes no
# nightly-only flag to rustc (sanitizer coverage is a stable `-C` option).
set -euo pipefail
cd "$(dirname "$0")/.."

# `--seeds DIR`: only put the seed corpus together in DIR (DIR/rules,
# DIR/condition, DIR/evaluate), for longer runs by hand.
seeds_only="${1:-}"
[ "$seeds_only" != --seeds ] || [ -n "${2:-}" ] || { echo "usage: $0 [--seeds DIR]" >&2; exit 2; }

TARGETS=(rule_load condition evaluate compile yaml)
FUZZ_FLAGS=(--sanitizer none --release --debug-assertions)
SECONDS_EACH="${FUZZ_SMOKE_SECONDS:-10}"
# Rules and events seeded per target (more makes the start slower).
MAX_EVENT_SEEDS="${FUZZ_SMOKE_EVENT_SEEDS:-200}"

if [ "$seeds_only" = --seeds ]; then
  seeds="$2"
else
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  # One thread for the rule loading in the evaluator target: CI cores are few.
  export RAYON_NUM_THREADS=1
  started=$(date +%s)
  (cd fuzz && cargo fuzz build "${FUZZ_FLAGS[@]}")
  seeds=$(mktemp -d)
  trap 'rm -rf "$seeds"' EXIT
fi
mkdir -p "$seeds/rules" "$seeds/condition" "$seeds/evaluate"
n=0
while IFS= read -r -d '' file; do
  n=$((n + 1))
  cp "$file" "$seeds/rules/$n.yml"
done < <(find detections tests/corpus/sigmahq tests/invalid tests/engine tests/yaml pipelines -type f \
  \( -name '*.yml' -o -name '*.yaml' \) -print0 | sort -z)
# Conditions: the one-line `condition:` values of those rules.
cat "$seeds"/rules/*.yml \
  | sed -n 's/^[[:space:]]*condition:[[:space:]]*\(..*\)$/\1/p' \
  | sed "s/^['\"]//; s/['\"]$//" | sort -u \
  | awk -v dir="$seeds/condition" '{ f = dir "/" NR; printf "%s", $0 > f; close(f) }'
# Events: the first lines of each recorded event file, capped in total.
n=0
while IFS= read -r -d '' file && [ "$n" -lt "$MAX_EVENT_SEEDS" ]; do
  while IFS= read -r line && [ "$n" -lt "$MAX_EVENT_SEEDS" ]; do
    n=$((n + 1))
    printf '%s\n' "$line" >"$seeds/evaluate/$n"
  done < <(head -n 2 "$file")
done < <(find test-events tests/replay -type f \( -name '*.ndjson' -o -name '*.json' \) -print0 | sort -z)
[ "$seeds_only" != --seeds ] || exit 0

declare -A corpus=(
  [rule_load]=rules [compile]=rules [condition]=condition [evaluate]=evaluate [yaml]=rules
)
for target in "${TARGETS[@]}"; do
  echo "-- $target: ${SECONDS_EACH}s from $(ls "$seeds/${corpus[$target]}" | wc -l) seeds"
  # New inputs go to a scratch folder, never into the seeds.
  scratch="$seeds/new-$target"
  mkdir -p "$scratch"
  log="$seeds/$target.log"
  if ! (cd fuzz && cargo fuzz run "${FUZZ_FLAGS[@]}" "$target" "$scratch" "$seeds/${corpus[$target]}" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1) >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $target failed; the input is under fuzz/artifacts/$target/ (fuzz/README.md)"
    exit 1
  fi
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
done
echo "fuzz smoke run: $(($(date +%s) - started)) s"
