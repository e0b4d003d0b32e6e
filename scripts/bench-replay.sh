#!/usr/bin/env bash
# Benchmark (not a test): `stetho replay` throughput over N generated
# process-creation events (default 1,000,000) against 10, 100 and 1,000
# SigmaHQ process_creation rules (the corpus rules, copied with fresh ids to
# reach 1,000), on one core and on all cores. Prints events/s, MB/s and peak
# memory for each run.
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-1000000}"
cargo build --release --locked --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 scripts/bench/gen_events.py "$events" "$work/events.ndjson"
python3 scripts/bench/rule_sets.py "$work" 10 100 1000
bytes=$(stat -c %s "$work/events.ndjson")
printf "events: %d (%.0f MB, %.0f bytes/event)\n" "$events" "$((bytes / 1000000))" "$((bytes / events))"
for size in 10 100 1000; do
  for jobs in 1 "$(nproc)"; do
    /usr/bin/env time -f "%e %M" ./target/release/stetho --jobs "$jobs" -q replay --no-config \
      --rules "$work/rules$size" --schema sigma --format jsonl "$work/events.ndjson" \
      2> "$work/time" > "$work/hits"
    read -r secs kb < <(tail -1 "$work/time")
    hits=$(wc -l < "$work/hits")
    awk -v n="$events" -v b="$bytes" -v s="$secs" -v kb="$kb" -v r="$size" -v j="$jobs" -v h="$hits" \
      'BEGIN { printf "rules %4d  jobs %d  %6.2f s  %9.0f events/s  %6.1f MB/s  peak %4.0f MB  hits %d\n", r, j, s, n / s, b / s / 1e6, kb / 1024, h }'
  done
done
