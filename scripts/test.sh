#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#
#   1. installs the third-party peers the interop tests need (scripts/setup-peers.sh)
#   2. checks formatting and lints (cargo fmt --check, cargo clippy -D warnings)
#   3. runs the unit and end-to-end tests (cargo test)
#   4. runs the credential store against a real Secret Service (gnome-keyring in a private
#      D-Bus session), and its file fallback where no keyring works
#   5. runs the interop tests against real peers and the MCP conformance suite
#   6. runs every fuzz target (fuzz/) for FUZZ_SECONDS (default 30) from its committed seeds,
#      as many at once as there are CPUs
#
# Every step must pass; the first failure stops the run with a non-zero exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=$SECONDS
step() { printf '\n==> %s (at %ss)\n' "$*" "$((SECONDS - started))"; }

# The real-keyring tests (`keyring_*` in src/store/ and tests/it/keyring.rs) skip
# loudly unless MCP_BRIDGE_TEST_KEYRING=1; `fallback_without_os_keyring` unless
# MCP_BRIDGE_TEST_NO_KEYRING=1.
# Each runs in a throwaway environment, never against the user's own keyring:
#   - a private D-Bus session with gnome-keyring unlocked by a random password, in fresh
#     data and runtime dirs, so the `login` collection (the `default` alias, which the
#     keyring crate writes to) is created for this run; an empty password creates none;
#   - the same without a password: a Secret Service with no default collection;
#   - no session bus at all (the usual headless server).
keyring_tests() {
  local tool
  for tool in dbus-run-session gnome-keyring-daemon dbus-send; do
    command -v "$tool" >/dev/null || {
      echo "error: $tool is missing (scripts/setup-peers.sh installs it)" >&2
      return 1
    }
  done
  local tmp
  tmp="$(mktemp -d)"
  mkdir -m 700 "$tmp/run-1" "$tmp/run-2"
  # shellcheck disable=SC2016 # expanded by the inner shell
  local session='
    set -euo pipefail
    printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    alias="$(dbus-send --session --print-reply=literal --dest=org.freedesktop.secrets \
      /org/freedesktop/secrets org.freedesktop.Secret.Service.ReadAlias string:default)"
    echo "keyring: default collection: ${alias//[[:space:]]/}"
    if [[ -n "$KEYRING_PASSWORD" && "$alias" != */collection/login* ]]; then
      echo "error: no login collection after unlocking gnome-keyring" >&2
      exit 1
    fi
    cargo test --locked "$@" 2>&1 | tee -a "$KEYRING_LOG"'
  KEYRING_LOG="$tmp/log"
  export KEYRING_LOG

  # 1. A working Secret Service: the keyring_* tests must run and pass.
  env -u DISPLAY -u WAYLAND_DISPLAY XDG_DATA_HOME="$tmp/data-1" XDG_RUNTIME_DIR="$tmp/run-1" \
    KEYRING_PASSWORD="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" MCP_BRIDGE_TEST_KEYRING=1 \
    dbus-run-session -- bash -c "$session" keyring keyring_ 2> >(grep -v 'fd limit' >&2)
  # 2. A Secret Service without a default collection: auto falls back to the file.
  env -u DISPLAY -u WAYLAND_DISPLAY XDG_DATA_HOME="$tmp/data-2" XDG_RUNTIME_DIR="$tmp/run-2" \
    KEYRING_PASSWORD="" MCP_BRIDGE_TEST_NO_KEYRING=1 \
    dbus-run-session -- bash -c "$session" keyring fallback_without_os_keyring -- --nocapture \
    2> >(grep -v 'fd limit' >&2)
  # 3. No session bus: auto falls back to the file.
  DBUS_SESSION_BUS_ADDRESS="unix:path=$tmp/no-bus" MCP_BRIDGE_TEST_NO_KEYRING=1 \
    cargo test --locked fallback_without_os_keyring -- --nocapture 2>&1 | tee -a "$KEYRING_LOG"

  local passed
  passed="$(grep -cE '^test (store::.*::|keyring::)(keyring_|fallback_without_os_keyring).* ok$' "$KEYRING_LOG" || true)"
  if grep -q 'SKIPPED' "$KEYRING_LOG" || ((passed < 5)); then
    echo "error: keyring tests skipped or missing ($passed passed; see above)" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$tmp"
  echo "keyring: $passed store tests passed against real keyring setups"
}

# Every fuzz target for FUZZ_SECONDS of its time (default 30) from its committed seeds,
# with a fixed seed, so the same checkout makes the same inputs in the same order (a faster
# machine only goes further along them); long exploratory runs are described in
# fuzz/README.md. The targets are built without a sanitizer (the bridge is safe Rust: its
# invariants are panics, which need none) and run as many at a time as there are CPUs, each
# into its own log. libFuzzer adds the inputs it finds to its first corpus directory, so it
# gets a throwaway copy of the seeds; a crash lands in fuzz/artifacts/<target>/
# (git-ignored) for replaying.
# A target that fails to build, crashes, breaks an invariant or stalls fails the script.
fuzz_tests() {
  command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
  rustup run nightly rustc --version >/dev/null 2>&1 ||
    rustup toolchain install nightly --profile minimal
  local targets target tmp failed=0 running=0 slots
  cargo fmt --manifest-path fuzz/Cargo.toml --check
  targets="$(cargo +nightly fuzz list)"
  [[ -n "$targets" ]] || {
    echo "error: cargo fuzz lists no targets" >&2
    return 1
  }
  cargo +nightly fuzz build --sanitizer none
  slots="$(nproc)"
  tmp="$(mktemp -d)"
  for target in $targets; do
    [[ -d "fuzz/corpus/$target" ]] || {
      echo "error: fuzz target $target has no corpus in fuzz/corpus/$target" >&2
      rm -rf "$tmp"
      return 1
    }
  done
  for target in $targets; do
    cp -R "fuzz/corpus/$target" "$tmp/$target"
    echo "fuzz: $target, ${FUZZ_SECONDS:-30} s"
    (cargo +nightly fuzz run --sanitizer none "$target" "$tmp/$target" -- \
      -seed=1 -max_total_time="${FUZZ_SECONDS:-30}" -timeout=10 -print_final_stats=1 \
      >"$tmp/$target.log" 2>&1 && touch "$tmp/$target.ok") &
    running=$((running + 1))
    if ((running >= slots)); then
      wait -n || true
      running=$((running - 1))
    fi
  done
  wait || true
  for target in $targets; do
    if [[ -e "$tmp/$target.ok" ]]; then
      echo "fuzz: $target: $(awk '/number_of_executed_units/ {print $2}' "$tmp/$target.log") inputs"
    else
      tail -n 40 "$tmp/$target.log" >&2
      echo "error: fuzz target $target failed (see fuzz/artifacts/$target/)" >&2
      failed=1
    fi
  done
  rm -rf "$tmp"
  return "$failed"
}

step "installing interop peers"
scripts/setup-peers.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test"
# Three tests per CPU: the end-to-end tests mostly wait on processes and sockets.
cargo test --locked -- --test-threads "$(($(nproc) * 3))"

step "keyring: a real Secret Service, and the fallback without one"
keyring_tests

step "interop: real peers and the conformance suite"
# The binary `cargo test` built for the end-to-end tests (the release build in the next
# step is the one that proves the crate builds without its dev-dependencies).
MCP_BRIDGE_BIN="$PWD/target/debug/mcp-bridge" tests/interop/run.sh

step "packages: npm and wheel installs without a registry, a real session through each"
scripts/test-packages.sh

step "fuzz: every target, a fixed run from its seeds"
fuzz_tests

printf '\nall checks passed in %ss\n' "$((SECONDS - started))"
