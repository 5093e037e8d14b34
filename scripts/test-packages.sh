#!/usr/bin/env bash
# Installs mcp-bridge every way a user without Rust would, with no registry, and runs a real
# MCP session through each against a local server (the Python SDK's FastMCP,
# tests/interop/fastmcp_server.py, over Streamable HTTP):
#
#   1. builds the release binary (cargo build --release)
#   2. builds the linux-x64 npm packages (packaging/npm/build.mjs) and the wheel (maturin,
#      from a private copy under target/pkg-tools along with uv and pipx, from PyPI)
#   3. checks the wheel's manylinux tag against the newest GLIBC_ symbol the binary needs,
#      and that scripts/release-archive.sh names and lays out the archive as the
#      [package.metadata.binstall] templates in Cargo.toml render them for this target
#   4. installs and runs, each in its own temporary prefix, home and cache:
#        npm install -g --offline (the postinstall makes the command the binary itself),
#        and again over that install (a reinstall)
#        npm install -g --offline --ignore-scripts (the launcher stays; Node 22 execs)
#        the launcher under Node 20, where there is no execve: a child, signals forwarded;
#        under both, a failing binary's exit code and message come through unchanged
#        npx --offline from the local tarballs
#        pip install of the wheel into a venv, uv tool install, uvx --from, pipx run --spec
#      asserting initialize, tools/list and tools/call answers, exit 0 on EOF, and that no
#      node process stays in front of the binary where the launcher should have exec'd
#
# Needs scripts/setup-peers.sh to have run (Node 22 and the FastMCP venv in tests/interop).
#
#   scripts/test-packages.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/package-env.sh
source scripts/package-env.sh

work="$(mktemp -d)"
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {
  local what="$1"
  shift
  echo "--- $what" >&2
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "test-packages: FAILED: $what" >&2
    failed=$((failed + 1))
  fi
}

build_all "$work"
check "wheel tag matches the binary's glibc needs" check_wheel_tag
check "build.mjs refuses the linux-x64 binary as darwin-arm64's" build_refuses_wrong_platform "$work/npm-wrong"
check "release archive: named and laid out as cargo binstall's pkg-url and bin-dir expect" \
  check_release_archive "$work/archives"
start_server "$work"

session=(node "$ROOT/tests/packages/session.mjs" --server-name "$SERVER_NAME")

# --- npm ----------------------------------------------------------------------
install_npm_global "$work/npm-global" # postinstall allowed
global_bin="$work/npm-global/bin/mcp-bridge"
check "npm install -g: the command is the binary itself (postinstall)" \
  cmp -s "$(readlink -f "$global_bin")" "$BINARY"
check "npm install -g: session through the global command" \
  "${session[@]}" --top binary --nodes 0 -- "$global_bin" "$SERVER_URL"
install_npm_global "$work/npm-global" # again, over the first install
check "npm install -g over an existing install: the command is still the binary itself" \
  cmp -s "$(readlink -f "$global_bin")" "$BINARY"

install_npm_global "$work/npm-launcher" --ignore-scripts
launcher="$work/npm-launcher/lib/node_modules/mcp-bridge/bin/mcp-bridge"
check "npm install -g --ignore-scripts: the command is still the launcher" \
  grep -q 'process.execve' "$(readlink -f "$work/npm-launcher/bin/mcp-bridge")"
check "launcher on Node 22 ($("$NODE22" --version)): execve, the host's child is the binary" \
  env PATH="$(dirname "$NODE22"):$PATH" "${session[@]}" --top binary --nodes 0 -- "$work/npm-launcher/bin/mcp-bridge" "$SERVER_URL"
check "launcher on Node 22: a failing binary's exit code and message come through unchanged" \
  same_failure_as_binary "$NODE22" "$launcher"
if [[ -n "$NODE_OLD" ]]; then
  check "launcher on Node $("$NODE_OLD" --version) (no execve): a child with inherited stdio, exit 0 on EOF" \
    "${session[@]}" --top node --nodes 1 -- "$NODE_OLD" "$launcher" "$SERVER_URL"
  check "launcher on Node $("$NODE_OLD" --version): a failing binary's exit code and message come through unchanged" \
    same_failure_as_binary "$NODE_OLD" "$launcher"
  check "launcher on Node $("$NODE_OLD" --version): SIGTERM reaches the binary, both end" \
    "${session[@]}" --top node --nodes 1 --signal SIGTERM -- "$NODE_OLD" "$launcher" "$SERVER_URL"
else
  echo "test-packages: SKIPPED the child fallback: no Node older than 22.15 on PATH" >&2
  failed=$((failed + 1))
fi

# npx runs from its own cache: npm exec itself stays (one node), the launcher must not.
check "npx --offline from the local tarballs: one node (npx), the launcher exec'd or was replaced" \
  npx_session "$work/npx" "${session[@]}" --nodes 1 --
check "npm install -g --omit=optional: the launcher says there is no binary for linux-x64, exit 2" \
  launcher_without_platform "$work/npm-bare"

# --- wheel ----------------------------------------------------------------------
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --no-index --disable-pip-version-check "$WHEEL"
check "pip install of the wheel: the venv's command is the binary" \
  cmp -s "$work/venv/bin/mcp-bridge" "$BINARY"
check "pip install of the wheel: session" \
  "${session[@]}" --top binary --nodes 0 -- "$work/venv/bin/mcp-bridge" "$SERVER_URL"

uv_tool_install "$work/uv"
check "uv tool install: session through the tool's command" \
  "${session[@]}" --top binary --nodes 0 -- "$work/uv/bin/mcp-bridge" "$SERVER_URL"
check "uvx --from the wheel: session" \
  uvx_session "$work/uvx" "${session[@]}" --nodes 0 --
check "pipx run --spec the wheel: session" \
  pipx_session "$work/pipx" "${session[@]}" --top binary --nodes 0 --

echo "test-packages: $passed passed, $failed failed"
((failed == 0))
