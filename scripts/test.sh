#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#
#   1. installs the third-party peers the interop tests need (scripts/setup-peers.sh)
#   2. checks formatting and lints (cargo fmt --check, cargo clippy -D warnings)
#   3. runs the unit and end-to-end tests (cargo test)
#   4. runs the interop tests against real peers and the MCP conformance suite
#
# Every step must pass; the first failure stops the run with a non-zero exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "installing interop peers"
scripts/setup-peers.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test"
cargo test --locked

step "interop: real peers and the conformance suite"
cargo build --locked
MCP_BRIDGE_BIN="$PWD/target/debug/mcp-bridge" tests/interop/run.sh

printf '\nall checks passed in %ss\n' "$((SECONDS - started))"
