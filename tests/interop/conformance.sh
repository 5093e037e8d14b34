#!/usr/bin/env bash
# Runs the MCP conformance suite's client scenarios against mcp-bridge, one at a
# time, each with its own exit code (the suite's --suite mode ignores them).
#
#   tests/interop/conformance.sh                  every scenario in conformance-scenarios.txt
#   tests/interop/conformance.sh tools_call ...   only these (spec version from the list file,
#                                                 or NAME@VERSION, NAME@VERSION+force, and +modern
#                                                 for a 2026-07-28 host)
#   tests/interop/conformance.sh --list           all client scenarios the installed suite offers
#
# Environment: MCP_BRIDGE_BIN (bridge binary), MCP_BRIDGE_EXTRA_ARGS (extra bridge
# flags, e.g. -vv for a trace in each scenario's .bridge.log),
# CONFORMANCE_TIMEOUT_MS (per scenario, default 30000), CONFORMANCE_OUT
# (results directory, default a temporary one; NAME@VERSION.log is the suite's
# report, NAME@VERSION.bridge.log the bridge's stderr and the driver's notes).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE22="$HERE/node_modules/.bin/node"
SUITE="$HERE/node_modules/@modelcontextprotocol/conformance/dist/index.js"
LIST="$HERE/conformance-scenarios.txt"
TIMEOUT_MS="${CONFORMANCE_TIMEOUT_MS:-30000}"

die() { echo "conformance: error: $*" >&2; exit 2; }

[[ -x "$NODE22" && -f "$SUITE" ]] ||
  die "the conformance suite or Node 22 is not installed under $HERE/node_modules; run scripts/setup-peers.sh (as root) from the repository root"
"$NODE22" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' ||
  die "$NODE22 is not Node >= 22; run scripts/setup-peers.sh"

if [[ "${1:-}" == "--list" ]]; then
  exec "$NODE22" "$SUITE" list --client
fi

BRIDGE="${MCP_BRIDGE_BIN:-$HERE/../../target/debug/mcp-bridge}"
[[ -x "$BRIDGE" ]] || die "mcp-bridge binary not found at $BRIDGE; build it with cargo build or set MCP_BRIDGE_BIN"
export MCP_BRIDGE_BIN="$(cd "$(dirname "$BRIDGE")" && pwd)/$(basename "$BRIDGE")"

# The suite splits --command on spaces: refuse paths that would break it.
[[ "$HERE" != *" "* && "$NODE22" != *" "* ]] || die "paths with spaces are not supported: $HERE"
COMMAND="$NODE22 $HERE/conformance-host.mjs"

# A list line is "SCENARIO SPEC_VERSION [force] [modern-host]"; a scenario may be listed at
# several versions. A target is NAME@VERSION, with +force to pass --force (run a scenario
# at a version it does not apply to) and +modern for a 2026-07-28 host (modern-host.mjs)
# instead of the SDK's 2025-11-25 one: NAME@VERSION+force+modern.
declare -A VERSION_OF=()
ORDER=()
while read -r name version flags; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  suffix=""
  for flag in $flags; do
    case "$flag" in
      force) suffix+="+force" ;;
      modern-host) suffix+="+modern" ;;
      *) die "$LIST: unknown flag '$flag' for $name (only 'force' and 'modern-host')" ;;
    esac
  done
  [[ -n "${VERSION_OF[$name]:-}" ]] || VERSION_OF[$name]="$version$suffix"
  ORDER+=("$name@$version$suffix")
done <"$LIST"

TARGETS=()
if (($# > 0)); then
  for arg in "$@"; do
    name="${arg%@*}"
    version="${VERSION_OF[$name]:-}"
    [[ "$arg" == *@* ]] && version="${arg#*@}"
    [[ -n "$version" ]] || die "no spec version for $name: add it to $LIST or pass $name@VERSION"
    TARGETS+=("$name@$version")
  done
else
  TARGETS=("${ORDER[@]}")
fi

OUT="${CONFORMANCE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/mcp-bridge-conformance.XXXXXX")}"
mkdir -p "$OUT"
echo "conformance: suite $("$NODE22" "$SUITE" --version), node $("$NODE22" --version), bridge $MCP_BRIDGE_BIN"
echo "conformance: results and logs in $OUT"

passed=0
failed=0
FAILED=()
for target in "${TARGETS[@]}"; do
  name="${target%@*}"
  version="${target#*@}"
  force=()
  host=sdk
  if [[ "$version" == *+modern ]]; then
    version="${version%+modern}"
    host=modern
  fi
  label="$version"
  if [[ "$version" == *+force ]]; then
    version="${version%+force}"
    force=(--force)
    label="$version, forced"
  fi
  [[ "$host" == modern ]] && label+=", 2026-07-28 host"
  export CONFORMANCE_HOST="$host"
  hostpart=""
  [[ "$host" == modern ]] && hostpart="-modern-host"
  log="$OUT/${name//\//_}@$version${force:+-forced}$hostpart.log"
  # The driver appends the bridge's complete stderr here.
  export CONFORMANCE_BRIDGE_LOG="${log%.log}.bridge.log"
  : >"$CONFORMANCE_BRIDGE_LOG"
  start=$(date +%s)
  # The suite enforces its own client timeout; the outer one only guards the suite itself.
  timeout --kill-after=10 $(((TIMEOUT_MS / 1000) + 60)) \
    "$NODE22" "$SUITE" client --command "$COMMAND" --scenario "$name" --spec-version "$version" \
    "${force[@]}" --timeout "$TIMEOUT_MS" -o "$OUT" >"$log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  if grep -q '^SKIPPED' "$log"; then
    verdict="FAIL (skipped: $(grep -m1 '^SKIPPED' "$log"))"
  elif ((rc != 0)); then
    verdict="FAIL (exit $rc)"
  elif ! grep -q 'OVERALL: PASSED' "$log"; then
    verdict="FAIL (no OVERALL: PASSED line)"
  else
    verdict="ok"
  fi
  if [[ "$verdict" == ok ]]; then
    passed=$((passed + 1))
    echo "ok    $name [$label] (${secs}s)"
  else
    failed=$((failed + 1))
    FAILED+=("$name [$label]")
    echo "FAIL  $name [$label] (${secs}s): $verdict; log: $log"
    # The interesting part of the suite's report: failed/warning checks and the client's stderr.
    sed -n '/^Test Results:/,$p;/^Client exited/,/^Checks:/p' "$log" | head -60 | sed 's/^/      /'
    echo "      bridge log: $CONFORMANCE_BRIDGE_LOG"
  fi
done

echo
if ((failed > 0)); then
  echo "conformance: failed: ${FAILED[*]}"
fi
echo "conformance: $passed passed, $failed failed"
((failed == 0))
