#!/usr/bin/env bash
# The full test command (README "Test"): formatting, clippy, unit and CLI
# tests, and the conformance checks that run stetho's output through real
# third-party tools. Installs what those tools need first.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== conformance tools (npm: conformance/package-lock.json)"
npm ci --prefix conformance --no-audit --no-fund --loglevel=error

# The coverage report is checked as rendered by Debian's Chromium (driven by
# playwright-core from the lock file above; never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
  echo "== Chromium for the coverage render check (Debian package chromium)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
# The conformance tests fail instead of skipping when a tool is missing.
export STETHO_REQUIRE_CONFORMANCE=1

echo "== cargo fmt --check"
cargo fmt --check

echo "== cargo clippy -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

echo "== cargo deny: licences, bans, sources, advisories (deny.toml)"
bash scripts/deny.sh

echo "== cargo test"
cargo test --locked

echo "== the JUnit report of the shipped library parses as XML"
cargo run --locked --quiet -- test --format junit \
  | python3 -c 'import sys, xml.dom.minidom; d = xml.dom.minidom.parse(sys.stdin); assert d.documentElement.tagName == "testsuites"'

echo "== compiled KQL replayed by duckdb-kql (PyPI, pinned) against stetho test's snapshots"
python3 scripts/kql-replay/run.py --stetho target/debug/stetho
python3 scripts/kql-replay/run.py --stetho target/debug/stetho --project tests/kql/chained
python3 scripts/kql-replay/run.py --stetho target/debug/stetho --project tests/kql/defender_sources
python3 scripts/kql-replay/run.py --stetho target/debug/stetho --project tests/kql/dynamic_columns
echo "== the same with --watchlists: each list read from a watchlist holding its entries"
python3 scripts/kql-replay/run.py --stetho target/debug/stetho --watchlists
python3 scripts/kql-replay/run.py --stetho target/debug/stetho --project tests/kql/watchlists
python3 scripts/kql-replay/run.py --stetho target/debug/stetho --project tests/kql/watchlists --watchlists

echo "== Sigma export: official Sigma schemas, sigma check, sigma convert (sigma-cli / pySigma, PyPI, pinned)"
python3 scripts/sigma-check/run.py --stetho target/debug/stetho

echo "== differential test against pySigma's SQLite backend (PyPI, pinned)"
python3 scripts/differential/run.py

echo "== fuzz smoke run: each cargo-fuzz target for a few seconds on the seed corpus (fuzz/README.md)"
scripts/fuzz-smoke.sh
