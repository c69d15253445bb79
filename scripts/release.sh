#!/usr/bin/env bash
# Builds the release artifacts into dist/ (git-ignored), both with the admin UI from assets/
# embedded:
#
#   dist/llm-proxy-VERSION-linux-x86_64            the Linux binary
#   dist/llm-proxy-VERSION-windows-x86_64.zip      llm-proxy.exe + README.txt (Chinese/English)
#   dist/SHA256SUMS                                checksums of both, for `sha256sum -c`
#
# The Windows .exe comes from scripts/build-windows.sh (which also checks it and leaves it in
# target/x86_64-pc-windows-gnu/release/, where scripts/windows-smoke.sh finds it).
# Run as root on Debian 12 when the toolchain or zip still have to be installed.
#
# LINUX_BINARY=path packages that Linux binary instead of building one with the release
# profile. CI passes the one its tests just ran, rather than compiling the whole tree once more
# (scripts/test-all.sh says why).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DIST="$ROOT/dist"

step() { printf '\n==> %s\n' "$*"; }

VERSION="$(cargo metadata --no-deps --format-version 1 --offline 2>/dev/null \
  | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "llm-proxy"))')"
[ -n "$VERSION" ] || { echo "release: cannot read the version of llm-proxy" >&2; exit 1; }
LINUX_NAME="llm-proxy-$VERSION-linux-x86_64"
WINDOWS_NAME="llm-proxy-$VERSION-windows-x86_64"

if ! command -v zip >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zip >/dev/null
fi

if [ -n "${LINUX_BINARY:-}" ]; then
  step "Linux binary: $LINUX_BINARY (already built)"
  [ -x "$LINUX_BINARY" ] || { echo "release: LINUX_BINARY=$LINUX_BINARY is not an executable" >&2; exit 1; }
else
  step "Linux release binary"
  cargo build --release --locked -p llm-proxy --bin llm-proxy
  LINUX_BINARY=target/release/llm-proxy
fi

step "Windows .exe"
bash scripts/build-windows.sh

step "packaging into dist/"
rm -rf "$DIST" && mkdir -p "$DIST"
cp "$LINUX_BINARY" "$DIST/$LINUX_NAME"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$WINDOWS_NAME"
cp target/x86_64-pc-windows-gnu/release/llm-proxy.exe "$stage/$WINDOWS_NAME/"
# CRLF line ends: older Notepad shows a LF-only file as one long line.
sed 's/$/\r/' scripts/windows/README.txt >"$stage/$WINDOWS_NAME/README.txt"
# -X: no Unix owner/time extras, so the archive lists only what Windows knows about.
(cd "$stage" && zip -q -r -X "$DIST/$WINDOWS_NAME.zip" "$WINDOWS_NAME")
(cd "$DIST" && sha256sum "$LINUX_NAME" "$WINDOWS_NAME.zip" >SHA256SUMS)

step "release $VERSION in dist/"
(cd "$DIST" && ls -l && cat SHA256SUMS)
