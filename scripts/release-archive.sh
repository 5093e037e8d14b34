#!/usr/bin/env bash
# Packs a release binary into the archive `cargo binstall mcp-bridge` downloads, named as
# [package.metadata.binstall] in Cargo.toml expects:
#
#   mcp-bridge-<version>-<target>.tar.gz   (.zip for Windows targets), holding
#   mcp-bridge-<version>-<target>/mcp-bridge[.exe], README.md, LICENSE
#
# and a <archive>.sha256 beside it. Upload both to the release `v<version>`.
#
#   scripts/release-archive.sh [--binary PATH] [--target TRIPLE] [--out DIR]
#
#   --binary PATH    the release binary (default target/<target>/release/mcp-bridge, else
#                    target/release/mcp-bridge)
#   --target TRIPLE  the Rust target it was built for (default this machine's, rustc -vV)
#   --out DIR        where the archive goes (default target/release-archives)
#
# Prints the archive's path on stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() { echo "release-archive: error: $*" >&2; exit 1; }

binary="" target="" out="$ROOT/target/release-archives"
while (($# > 0)); do
  case "$1" in
  --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
  --target) target="${2:?--target needs a triple}"; shift 2 ;;
  --out) out="${2:?--out needs a directory}"; shift 2 ;;
  -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
  *) die "unknown argument $1 (see --help)" ;;
  esac
done

[[ -n "$target" ]] || target="$(rustc -vV | sed -n 's/^host: //p')"
[[ -n "$target" ]] || die "could not tell this machine's target from rustc -vV; pass --target"
exe=""
[[ "$target" == *windows* ]] && exe=".exe"
if [[ -z "$binary" ]]; then
  binary="$ROOT/target/$target/release/mcp-bridge$exe"
  [[ -f "$binary" ]] || binary="$ROOT/target/release/mcp-bridge$exe"
fi
[[ -f "$binary" ]] || die "no binary at $binary (cargo build --release first, or pass --binary)"

version="$(sed -n '/^\[package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml")"
[[ -n "$version" ]] || die "no version in Cargo.toml"
if [[ "$target" == "$(rustc -vV | sed -n 's/^host: //p')" ]]; then
  reported="$("$binary" --version)"
  [[ "$reported" == "mcp-bridge $version" ]] || die "$binary --version says '$reported', expected 'mcp-bridge $version'"
fi

name="mcp-bridge-$version-$target"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
install -m 755 "$binary" "$stage/$name/mcp-bridge$exe"
cp "$ROOT/README.md" "$ROOT/LICENSE" "$stage/$name/"

if [[ -n "$exe" ]]; then
  archive="$out/$name.zip"
  rm -f "$archive"
  (cd "$stage" && zip -qr "$archive" "$name")
else
  archive="$out/$name.tar.gz"
  # Reproducible: fixed order, owner and times.
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' -cf - "$name" |
    gzip -9n >"$archive"
fi
(cd "$out" && sha256sum "$(basename "$archive")" >"$(basename "$archive").sha256")
echo "release-archive: wrote $archive" >&2
echo "$archive"
