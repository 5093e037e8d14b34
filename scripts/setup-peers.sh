#!/usr/bin/env bash
# Installs the third-party peers the interop tests (tests/interop) run against:
#   - npm packages pinned in tests/interop/package-lock.json: the TypeScript MCP SDK,
#     @modelcontextprotocol/server-everything, @modelcontextprotocol/conformance and
#     Node 22 (npm package `node`; the conformance suite needs Node >= 22)
#   - a Python venv at tests/interop/.venv with tests/interop/requirements.txt (mcp / FastMCP)
#   - Debian packages for the keyring tests: gnome-keyring dbus-daemon libsecret-tools
#   - Debian chromium, the real browser of the browser-login tests (driven headless by the
#     npm playwright-core, which downloads no browser of its own)
#
# Idempotent and quick when nothing changed: each part is skipped while the lock or
# requirements file it was installed from is unchanged. Runs as root on Debian
# (apt-get); as another user it uses sudo, and without sudo it warns about what is missing.
#
#   scripts/setup-peers.sh            install what is missing or out of date
#   scripts/setup-peers.sh --force    reinstall the npm packages and the venv
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INTEROP="$ROOT/tests/interop"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

APT_PACKAGES=(gnome-keyring dbus-daemon libsecret-tools openssl chromium)

say() { echo "setup-peers: $*"; }
die() { echo "setup-peers: error: $*" >&2; exit 1; }

hash_of() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

apt_updated=0
apt_install() {
  local as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      say "warning: not root and no sudo, cannot apt-get install $*"
      return 1
    fi
    as_root=(sudo)
  fi
  if ((apt_updated == 0)); then
    say "apt-get update"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# --- Debian packages (keyring tests, chromium) ---------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  apt_install "${missing[@]}" || say "warning: still missing: ${missing[*]}"
else
  say "apt packages present: ${APT_PACKAGES[*]}"
fi

# --- npm packages ------------------------------------------------------------
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm || die "npm is not installed"
fi
npm_stamp="$INTEROP/node_modules/.mcp-bridge-setup"
npm_hash="$(hash_of "$INTEROP/package.json" "$INTEROP/package-lock.json")"
node22="$INTEROP/node_modules/.bin/node"
node22_ok() {
  [[ -x "$node22" ]] && "$node22" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' 2>/dev/null
}
if ((FORCE == 0)) && [[ -f "$npm_stamp" && "$(cat "$npm_stamp")" == "$npm_hash" ]] && node22_ok; then
  say "npm packages up to date ($(cd "$INTEROP" && "$node22" --version))"
else
  say "npm ci in tests/interop"
  (cd "$INTEROP" && npm ci --no-audit --no-fund --loglevel=error)
  node22_ok || die "npm ci finished but $node22 is not Node >= 22 (did the node package's install script run?)"
  echo "$npm_hash" >"$npm_stamp"
  say "npm packages installed (node $("$node22" --version))"
fi

# --- Python venv -------------------------------------------------------------
venv="$INTEROP/.venv"
venv_stamp="$venv/.mcp-bridge-setup"
py_hash="$(hash_of "$INTEROP/requirements.txt")"
if ((FORCE == 0)) && [[ -x "$venv/bin/python" && -f "$venv_stamp" && "$(cat "$venv_stamp")" == "$py_hash" ]] &&
  "$venv/bin/python" -c 'import mcp.server.fastmcp' 2>/dev/null; then
  say "python venv up to date ($("$venv/bin/python" --version))"
else
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv || die "python3 is not installed"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 needs python3-venv for ensurepip.
    rm -rf "$venv"
    apt_install python3-venv || die "python3 -m venv failed and python3-venv could not be installed"
    python3 -m venv "$venv"
  fi
  say "pip install -r tests/interop/requirements.txt"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$INTEROP/requirements.txt"
  "$venv/bin/python" -c 'import mcp.server.fastmcp' || die "the venv has no mcp.server.fastmcp"
  echo "$py_hash" >"$venv_stamp"
  say "python venv ready ($("$venv/bin/python" --version))"
fi

say "done"
