# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are for the scripts that source this
# Shared by scripts/test-packages.sh and scripts/measure-install.sh (sourced, not run):
# builds the release binary, the npm packages and the wheel, starts a local MCP server, and
# installs or runs each package in a private place without any registry.
#
# After build_all: BINARY, NPM_MAIN and NPM_PLATFORM (tarballs), WHEEL, NODE22, NODE_OLD
# (a Node without process.execve, or empty), and the tools under target/pkg-tools.
# After start_server: SERVER_URL and SERVER_NAME.

PKG_TOOLS="$ROOT/target/pkg-tools"
# Pinned so the packaging is built and tested the same way every time.
PKG_TOOL_PINS=(maturin==1.16.0 uv==0.13.8 pipx==1.18.4)
INTEROP="$ROOT/tests/interop"
SERVER_NAME="mcp-bridge-interop-fastmcp"
SERVER_PID=""

pkg_say() { echo "packages: $*" >&2; }
pkg_die() {
  echo "packages: error: $*" >&2
  exit 1
}

# A private venv with maturin, uv and pipx from PyPI, reinstalled when the pins change.
install_tools() {
  local stamp="$PKG_TOOLS/venv/.pins"
  if [[ -x "$PKG_TOOLS/venv/bin/maturin" && -f "$stamp" && "$(cat "$stamp")" == "${PKG_TOOL_PINS[*]}" ]]; then
    return
  fi
  pkg_say "installing ${PKG_TOOL_PINS[*]} into target/pkg-tools"
  rm -rf "$PKG_TOOLS/venv"
  mkdir -p "$PKG_TOOLS"
  python3 -m venv "$PKG_TOOLS/venv"
  "$PKG_TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "${PKG_TOOL_PINS[@]}"
  echo "${PKG_TOOL_PINS[*]}" >"$stamp"
}

# Node 22 from the interop peers, and an older Node (the machine's) for the launcher's
# fallback, if there is one without process.execve.
find_nodes() {
  NODE22="$INTEROP/node_modules/.bin/node"
  [[ -x "$NODE22" ]] || pkg_die "no Node 22 at $NODE22; run scripts/setup-peers.sh"
  NODE22="$(readlink -f "$NODE22")"
  NODE_OLD=""
  local candidate
  candidate="$(command -v node || true)"
  if [[ -n "$candidate" ]] && "$candidate" -e 'process.exit(typeof process.execve === "function" ? 1 : 0)'; then
    NODE_OLD="$(readlink -f "$candidate")"
  fi
}

# The newest glibc symbol version the binary needs, as a manylinux tag (never below 2_17,
# the oldest Rust supports).
manylinux_tag() {
  local newest
  newest="$(objdump -T "$1" | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)"
  [[ -n "$newest" ]] || pkg_die "objdump -T found no GLIBC_ symbol versions in $1"
  local minor="${newest#GLIBC_2.}"
  ((minor < 17)) && minor=17
  echo "manylinux_2_$minor"
}

# Builds everything into $1/{npm,wheel}.
build_all() {
  local out="$1"
  install_tools
  find_nodes
  pkg_say "cargo build --release"
  cargo build --release --locked
  BINARY="$ROOT/target/release/mcp-bridge"

  pkg_say "npm packages (packaging/npm/build.mjs)"
  mapfile -t tarballs < <(node packaging/npm/build.mjs --binary "$BINARY" --out "$out/npm")
  NPM_PLATFORM="${tarballs[0]}"
  NPM_MAIN="${tarballs[1]}"
  [[ -f "$NPM_MAIN" && -f "$NPM_PLATFORM" ]] || pkg_die "build.mjs made no tarballs"

  WHEEL_TAG="$(manylinux_tag "$BINARY")"
  pkg_say "wheel (maturin build --release --compatibility $WHEEL_TAG)"
  local started=$SECONDS
  "$PKG_TOOLS/venv/bin/maturin" build --release --locked --quiet --compatibility "$WHEEL_TAG" \
    --out "$out/wheel" >&2
  pkg_say "maturin took $((SECONDS - started)) s on top of cargo build --release"
  WHEEL="$(ls "$out"/wheel/*.whl)"
  [[ -f "$WHEEL" ]] || pkg_die "maturin made no wheel"
}

check_wheel_tag() {
  local name
  name="$(basename "$WHEEL")"
  pkg_say "wheel $name; the binary needs at most $(objdump -T "$BINARY" | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)"
  [[ "$name" == *"-py3-none-${WHEEL_TAG}_x86_64.whl" ]] || {
    echo "expected a py3-none-${WHEEL_TAG}_x86_64 wheel, got $name" >&2
    return 1
  }
  # The wheel must carry exactly the release binary, as its one script.
  python3 - "$WHEEL" "$BINARY" <<'PY'
import sys, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
scripts = [n for n in wheel.namelist() if "/scripts/" in n]
if [n.rsplit("/", 1)[1] for n in scripts] != ["mcp-bridge"]:
    sys.exit(f"the wheel's scripts are {scripts}, not just mcp-bridge")
if wheel.read(scripts[0]) != open(sys.argv[2], "rb").read():
    sys.exit("the wheel's mcp-bridge is not the release binary")
PY
}

# The archive `cargo binstall` downloads, made by scripts/release-archive.sh into $1: its
# name must be the last part of the `pkg-url` that [package.metadata.binstall] in Cargo.toml
# renders for this machine's target, the `bin-dir` it renders must be the release binary,
# and the `.sha256` beside it must match.
check_release_archive() {
  local out="$1" target archive
  target="$(rustc -vV | sed -n 's/^host: //p')"
  archive="$(scripts/release-archive.sh --binary "$BINARY" --target "$target" --out "$out" 2>/dev/null)" || {
    echo "scripts/release-archive.sh failed" >&2
    return 1
  }
  python3 - "$ROOT/Cargo.toml" "$archive" "$target" "$BINARY" <<'PY'
import hashlib, os, re, sys, tarfile, tomllib
manifest, archive, target, binary = sys.argv[1:]
package = tomllib.load(open(manifest, "rb"))["package"]
meta = package["metadata"]["binstall"]
fmt = meta.get("overrides", {}).get(target, {}).get("pkg-fmt", meta.get("pkg-fmt", "tgz"))
if fmt != "tgz":
    sys.exit(f"expected pkg-fmt tgz for {target}, Cargo.toml says {fmt}")
values = {
    "name": package["name"], "version": package["version"], "target": target,
    "repo": package["repository"], "bin": package["name"], "binary-ext": "",
    # binstall tries each suffix of the format in turn: .tgz, then .tar.gz
    "archive-suffix": ".tar.gz",
}
def render(template):
    def value(match):
        if match[1] not in values:
            sys.exit(f"{template!r} uses {{ {match[1]} }}, which this check does not know")
        return values[match[1]]
    return re.sub(r"\{\s*([a-z-]+)\s*\}", value, template)
url = render(meta["pkg-url"])
if os.path.basename(archive) != url.rsplit("/", 1)[1]:
    sys.exit(f"the archive is {os.path.basename(archive)}, binstall would download {url}")
bin_dir = render(meta["bin-dir"])
with tarfile.open(archive) as tar:
    try:
        member = tar.getmember(bin_dir)
    except KeyError:
        sys.exit(f"{archive} has no {bin_dir} (bin-dir); it holds {tar.getnames()}")
    if not member.isfile() or member.mode & 0o111 == 0:
        sys.exit(f"{bin_dir} in {archive} is not an executable file")
    if tar.extractfile(member).read() != open(binary, "rb").read():
        sys.exit(f"{bin_dir} in {archive} is not the release binary")
digest = hashlib.sha256(open(archive, "rb").read()).hexdigest()
if open(archive + ".sha256").read().split() != [digest, os.path.basename(archive)]:
    sys.exit(f"{archive}.sha256 does not match the archive")
print(f"ok: {os.path.basename(archive)} is what binstall downloads from {url}, with {bin_dir}")
PY
}

# FastMCP over Streamable HTTP on a free loopback port.
start_server() {
  local dir="$1" port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  [[ -x "$INTEROP/.venv/bin/python" ]] || pkg_die "no FastMCP venv in tests/interop; run scripts/setup-peers.sh"
  mkfifo "$dir/server-out"
  "$INTEROP/.venv/bin/python" "$INTEROP/fastmcp_server.py" --transport streamable-http --port "$port" \
    >"$dir/server-out" 2>"$dir/server-err" &
  SERVER_PID=$!
  local ready=""
  read -r -t 30 ready <"$dir/server-out" || true
  [[ "$ready" == READY* ]] || {
    cat "$dir/server-err" >&2
    pkg_die "the FastMCP server did not start"
  }
  SERVER_URL="${ready##* }"
  pkg_say "server: FastMCP at $SERVER_URL"
  # The bridge keeps its memory of servers here, never in the real home.
  export MCP_BRIDGE_CONFIG_DIR="$dir/bridge-config" MCP_BRIDGE_STORE=memory
}

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

# npm with a private home, cache and config: nothing from the user's setup, no registry.
npm_private() {
  local dir="$1"
  shift
  mkdir -p "$dir/home" "$dir/cache"
  env HOME="$dir/home" npm_config_cache="$dir/cache" npm_config_userconfig="$dir/home/.npmrc" \
    npm_config_globalconfig="$dir/home/.npmrc-global" npm_config_update_notifier=false \
    npm_config_audit=false npm_config_fund=false npm_config_offline=true "$@"
}

# npm install -g into the prefix $1 from the two tarballs (extra npm arguments after it).
install_npm_global() {
  local prefix="$1"
  shift
  npm_private "$prefix" npm install -g --prefix "$prefix" --loglevel=error --allow-scripts=mcp-bridge \
    "$@" "$NPM_MAIN" "$NPM_PLATFORM" >&2
}

# npx from the local tarballs, offline: runs "$@" followed by the npx command line.
npx_session() {
  local dir="$1"
  shift
  npm_private "$dir" PATH="$(dirname "$NODE22"):$PATH" \
    "$@" npx --yes --package "$NPM_MAIN" --package "$NPM_PLATFORM" -- mcp-bridge "$SERVER_URL"
}

# build.mjs must refuse to pack a binary as another platform's (a mix-up in a release).
build_refuses_wrong_platform() {
  local out rc=0
  out="$(node packaging/npm/build.mjs --binary "$BINARY" --platform darwin-arm64 --platform-only \
    --out "$1" 2>&1 >/dev/null)" || rc=$?
  if ((rc == 0)) || [[ "$out" != *"not a darwin-arm64 executable"* ]] || compgen -G "$1/*.tgz" >/dev/null; then
    echo "expected build.mjs to refuse, got exit $rc: $out" >&2
    return 1
  fi
}

# A command that fails must fail as the binary does: "$@" (a way of starting it) with an
# unknown option must exit with the binary's code and print exactly its message.
same_failure_as_binary() {
  local want want_rc=0 got got_rc=0
  want="$("$BINARY" --no-such-option </dev/null 2>&1)" || want_rc=$?
  got="$("$@" --no-such-option </dev/null 2>&1)" || got_rc=$?
  if ((want_rc == 0 || got_rc != want_rc)) || [[ "$got" != "$want" ]]; then
    echo "expected exit $want_rc and the binary's own message, got exit $got_rc: $got" >&2
    return 1
  fi
}

# Without its platform package the launcher must say so and fail, not hang.
launcher_without_platform() {
  local prefix="$1" out rc=0
  npm_private "$prefix" npm install -g --prefix "$prefix" --loglevel=error --omit=optional "$NPM_MAIN" >&2
  out="$("$prefix/bin/mcp-bridge" "$SERVER_URL" </dev/null 2>&1)" || rc=$?
  if ((rc != 2)) || [[ "$out" != *"no prebuilt binary for linux-x64"* ]]; then
    echo "expected exit 2 and 'no prebuilt binary', got exit $rc: $out" >&2
    return 1
  fi
}

uv_private() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  env UV_CACHE_DIR="$dir/cache" UV_TOOL_DIR="$dir/tools" UV_TOOL_BIN_DIR="$dir/bin" UV_OFFLINE=1 \
    UV_NO_CONFIG=1 UV_PYTHON_DOWNLOADS=never UV_PYTHON_PREFERENCE=only-system "$@"
}

uv_tool_install() {
  uv_private "$1" "$PKG_TOOLS/venv/bin/uv" tool install --quiet "$WHEEL" >&2
}

# uvx --from the wheel: runs "$@" followed by the uvx command line.
uvx_session() {
  local dir="$1"
  shift
  uv_private "$dir" "$@" "$PKG_TOOLS/venv/bin/uvx" --from "$WHEEL" mcp-bridge "$SERVER_URL"
}

# pipx run --spec the wheel, no index: runs "$@" followed by the pipx command line.
pipx_session() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  env PIPX_HOME="$dir/home" PIPX_BIN_DIR="$dir/bin" PIPX_MAN_DIR="$dir/man" PIP_NO_INDEX=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$@" "$PKG_TOOLS/venv/bin/pipx" run --spec "$WHEEL" mcp-bridge "$SERVER_URL"
}
