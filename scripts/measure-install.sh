#!/usr/bin/env bash
# Measures what each way of installing mcp-bridge costs a host at every start: the time
# from spawning the command to the answer to `initialize`, and the peak RSS of the process
# tree the host talks to (the sum of VmHWM of its processes once the session runs), against
# a local FastMCP server over Streamable HTTP. Builds and installs everything as
# scripts/test-packages.sh does (no registry), then runs N sessions per way after one
# warm-up and prints the medians (and the range of the times) as a table (Markdown, on
# stdout), with the load average before and after.
#
#   scripts/measure-install.sh [N]      N sessions per way (default 20)
#
# Ways: the plain binary; npm install -g (the postinstall made the command the binary);
# npx --offline from the local tarballs; the launcher under Node 22 (execve) and under the
# machine's older Node (child fallback), when there is one; uv tool install of the wheel;
# uvx --from the wheel; pipx run --spec the wheel. Run it on an otherwise idle machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-20}"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: $0 [N]" >&2
  exit 2
}
# shellcheck source=scripts/package-env.sh
source scripts/package-env.sh

work="$(mktemp -d)"
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

build_all "$work" >&2
start_server "$work"
install_npm_global "$work/npm-global"
install_npm_global "$work/npm-launcher" --ignore-scripts
launcher="$work/npm-launcher/lib/node_modules/mcp-bridge/bin/mcp-bridge"
uv_tool_install "$work/uv"

session=(node "$ROOT/tests/packages/session.mjs" --server-name "$SERVER_NAME" --json)
rows=()
# measure LABEL COMMAND-PREFIX...: one warm-up, then RUNS sessions; the prefix gets the
# session options and the command line appended by the caller's helper.
measure() {
  local label="$1" shown="$2"
  shift 2
  pkg_say "measuring: $label ($RUNS runs)"
  "$@" >/dev/null # warm-up: caches, page cache, pipx's and uvx's environments
  local results
  results="$("$@")" || pkg_die "$label: a session failed"
  local count
  count="$(printf '%s\n' "$results" | grep -c firstAnswerMs || true)"
  ((count == RUNS)) || pkg_die "$label: only $count of $RUNS sessions succeeded"
  # shellcheck disable=SC2016 # Python, not shell
  rows+=("$(printf '%s\n' "$results" | python3 -c '
import json, statistics, sys
label, shown = sys.argv[1], sys.argv[2]
runs = [json.loads(line) for line in sys.stdin if line.strip()]
times = [r["firstAnswerMs"] for r in runs]
ms = f"{statistics.median(times):.1f} ms ({min(times):.1f} to {max(times):.1f})"
rss = statistics.median(r["rssKiB"] for r in runs) / 1024
nodes = max(r["nodes"] for r in runs)
print(f"| {label} | `{shown}` | {ms} | {rss:.1f} MiB | {nodes} |")
' "$label" "$shown")")
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
n=(--runs "$RUNS")
measure "plain binary" "mcp-bridge URL" "${session[@]}" "${n[@]}" -- "$BINARY" "$SERVER_URL"
measure "npm install -g (postinstall: the binary)" "mcp-bridge URL" \
  "${session[@]}" "${n[@]}" -- "$work/npm-global/bin/mcp-bridge" "$SERVER_URL"
measure "npx, local tarballs, offline" "npx -y mcp-bridge URL" npx_session "$work/npx" "${session[@]}" "${n[@]}" --
measure "launcher kept, Node $("$NODE22" --version) (execve)" "mcp-bridge URL" \
  "${session[@]}" "${n[@]}" -- "$NODE22" "$launcher" "$SERVER_URL"
if [[ -n "$NODE_OLD" ]]; then
  measure "launcher kept, Node $("$NODE_OLD" --version) (child)" "mcp-bridge URL" \
    "${session[@]}" "${n[@]}" -- "$NODE_OLD" "$launcher" "$SERVER_URL"
fi
measure "uv tool install of the wheel" "mcp-bridge URL" \
  "${session[@]}" "${n[@]}" -- "$work/uv/bin/mcp-bridge" "$SERVER_URL"
measure "uvx, local wheel, offline" "uvx --from WHEEL mcp-bridge URL" uvx_session "$work/uvx" "${session[@]}" "${n[@]}" --
measure "pipx run, local wheel, no index" "pipx run --spec WHEEL mcp-bridge URL" \
  pipx_session "$work/pipx" "${session[@]}" "${n[@]}" --

echo "Median of $RUNS sessions each (after one warm-up), $(nproc) cores, $(uname -sm), load average"
echo "$load_before before and $(cut -d' ' -f1-3 /proc/loadavg) after; spawn to the initialize answer"
echo "(median, fastest to slowest), and the peak RSS of the process tree the host talks to."
echo
echo "| way | the host runs | spawn to initialize answer | peak RSS of the tree | node processes in it |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
