#!/usr/bin/env bash
# Interop tests of mcp-bridge against real third-party peers, then the MCP
# conformance suite's client scenarios. Exits non-zero if anything failed.
#
#   tests/interop/run.sh                 both parts
#   tests/interop/run.sh peers           only the node:test files (*.test.mjs: everything,
#                                        fastmcp, oauth, import, network, check)
#   tests/interop/run.sh conformance     only conformance.sh
#
# Needs the peers installed (scripts/setup-peers.sh, as root) and the bridge
# built (cargo build); MCP_BRIDGE_BIN overrides the binary
# (default target/debug/mcp-bridge).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WHAT="${1:-all}"
case "$WHAT" in all | peers | conformance) ;; *)
  echo "usage: $0 [all|peers|conformance]" >&2
  exit 2
  ;;
esac

fail_setup() {
  echo "interop: error: $*" >&2
  echo "interop: FAILED (not run)" >&2
  exit 1
}

[[ -f "$HERE/node_modules/@modelcontextprotocol/sdk/package.json" && -x "$HERE/.venv/bin/python" ]] ||
  fail_setup "interop peers are not installed; run: sudo $ROOT/scripts/setup-peers.sh"
export MCP_BRIDGE_BIN="${MCP_BRIDGE_BIN:-$ROOT/target/debug/mcp-bridge}"
[[ -x "$MCP_BRIDGE_BIN" ]] || fail_setup "no mcp-bridge binary at $MCP_BRIDGE_BIN; build it with cargo build (or set MCP_BRIDGE_BIN)"

# node:test files run on the pinned Node 22 (oidc-provider supports no older one), else on
# the machine's node.
NODE="$HERE/node_modules/.bin/node"
if [[ ! -x "$NODE" ]]; then
  NODE="$(command -v node || true)"
fi

peers_rc=0
conf_rc=0
cd "$HERE"
if [[ "$WHAT" != conformance ]]; then
  echo "=== interop: peers through mcp-bridge ($MCP_BRIDGE_BIN, node $("$NODE" --version)) ==="
  # One file at a time: each starts its own peer processes, and the machine is small.
  "$NODE" --test --test-concurrency=1 --test-timeout=240000 --test-reporter=spec ./*.test.mjs
  peers_rc=$?
fi
if [[ "$WHAT" != peers ]]; then
  echo
  echo "=== interop: conformance suite, client scenarios ==="
  "$HERE/conformance.sh"
  conf_rc=$?
fi

echo
echo "=== interop summary ==="
[[ "$WHAT" != conformance ]] && echo "peers:       $( ((peers_rc == 0)) && echo passed || echo "FAILED (exit $peers_rc)")"
[[ "$WHAT" != peers ]] && echo "conformance: $( ((conf_rc == 0)) && echo passed || echo "FAILED (exit $conf_rc)")"
((peers_rc == 0 && conf_rc == 0))
