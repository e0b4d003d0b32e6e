#!/usr/bin/env bash
# Benchmark (not a test): instructions and first-level cache read misses
# per replayed event, with 10 and with 1,000 SigmaHQ process_creation rules
# (the rule sets of bench-replay.sh). Counted by valgrind (callgrind and
# cachegrind), which unlike wall-clock time does not drift with the
# machine's load, so two builds can be compared by a few hundred
# instructions. Per-event figures are the difference between replaying
# 40,000 and 20,000 events, which takes loading and compiling the rules
# out. Needs valgrind; takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
cargo build --profile profiling --locked --quiet
binary=target/profiling/stetho
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 scripts/bench/gen_events.py 40000 "$work/e40k.ndjson"
head -n 20000 "$work/e40k.ndjson" > "$work/e20k.ndjson"
python3 scripts/bench/rule_sets.py "$work" 10 1000 > /dev/null

# The totals of one run: `instructions` or `misses` (first-level data reads).
count() {
  local tool=$1 rules=$2 events=$3 out="$work/$1-$2-$3.out"
  case "$tool" in
    instructions)
      valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" --jobs 1 -q replay \
        --no-config --rules "$work/rules$rules" --schema sigma --format jsonl \
        "$work/$events.ndjson" > /dev/null 2>&1
      awk '/^summary:/ { print $2 }' "$out" ;;
    misses)
      valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file="$out" "$binary" --jobs 1 -q replay \
        --no-config --rules "$work/rules$rules" --schema sigma --format jsonl \
        "$work/$events.ndjson" > /dev/null 2>&1
      # Fields: Ir I1mr ILmr Dr D1mr ...
      awk '/^summary:/ { print $6 }' "$out" ;;
  esac
}

declare -A per_event
for tool in instructions misses; do
  for rules in 10 1000; do
    small=$(count "$tool" "$rules" e20k)
    large=$(count "$tool" "$rules" e40k)
    per_event[$tool-$rules]=$(( (large - small) / 20000 ))
    printf "rules %4d  %-12s per event: %d\n" "$rules" "$tool" "${per_event[$tool-$rules]}"
  done
  awk -v a="${per_event[$tool-1000]}" -v b="${per_event[$tool-10]}" -v t="$tool" \
    'BEGIN { printf "1,000 rules against 10, %s: %.2f times\n", t, a / b }'
done
