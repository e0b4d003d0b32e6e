#!/usr/bin/env bash
# Supply-chain checks of what ships in the binary (deny.toml): licences
# (no copyleft), banned and duplicate crates, registries. Installs the
# pinned cargo-deny from crates.io if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION"; then
  cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION"
fi

cargo deny --locked check licenses bans sources

# Advisories need the RustSec database, which cargo-deny clones from
# GitHub. Where that host is unreachable (CI networks that reach only the
# package registries) say so loudly instead of passing as if checked; a
# database that was fetched and lists an advisory always fails the run.
set +e
advisories=$(cargo deny --locked check advisories 2>&1)
status=$?
set -e
if [ $status -eq 0 ]; then
  echo "advisories ok"
elif grep -q "failed to fetch advisory database" <<<"$advisories"; then
  echo "advisories NOT CHECKED: the RustSec database (github.com) is unreachable from this network"
else
  echo "$advisories"
  exit 1
fi
