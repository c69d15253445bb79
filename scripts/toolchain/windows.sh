#!/usr/bin/env bash
# Cross-build toolchain for x86_64-pc-windows-gnu on Debian 12, and Wine to run the result.
# Installs what is missing (run as root; a second run only checks), then:
#
#   bash scripts/toolchain/windows.sh build CMD [ARGS...]
#       runs CMD (e.g. cargo build --release --target x86_64-pc-windows-gnu) with the
#       cross-build environment set for that one command only;
#   eval "$(bash scripts/toolchain/windows.sh wine)"
#       installs Wine, prepares the prefix $WINEPREFIX (default /opt/wine-llm-proxy) with the
#       test-only bcryptprimitives.dll shim, and prints the Wine variables to export.
#
# Why environment variables and no committed .cargo/config.toml: the settings below only make
# sense with Debian's rustc-web; a developer with `rustup target add x86_64-pc-windows-gnu`, or
# on Windows itself, builds the same repository with plain cargo.
#
# Knobs: LLM_PROXY_TOOLS (cache root, default /opt/llm-proxy-tools), RUST_WEB_VERSION,
# MINGW_VERSION, WINE_VERSION (Debian package versions), TOOLCHAIN_QUIET=1.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

MINGW_VERSION="${MINGW_VERSION:-12.2.0-14+25.2}"
MINGW_BINUTILS_VERSION="${MINGW_BINUTILS_VERSION:-2.40-2+10.4}"
WINE_VERSION="${WINE_VERSION:-8.0~repack-4}"
CROSS=x86_64-w64-mingw32

# gcc links (it finds its own CRT and import libraries), compiles the C inside -sys crates
# (bundled SQLite, aws-lc, ring) and the Wine shim; objdump checks the .exe's imports.
install_mingw() {
  tc_apt "gcc-mingw-w64-x86-64=$MINGW_VERSION" "g++-mingw-w64-x86-64=$MINGW_VERSION" \
    "binutils-mingw-w64-x86-64=$MINGW_BINUTILS_VERSION"
}

run_build() {
  tc_rust_web
  install_mingw
  tc_rust_web_env
  # panic_unwind, not abort: the server catches panics in request handlers.
  export CARGO_UNSTABLE_BUILD_STD=std,panic_unwind
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=$CROSS-gcc
  export CC_x86_64_pc_windows_gnu=$CROSS-gcc CXX_x86_64_pc_windows_gnu=$CROSS-g++ \
    AR_x86_64_pc_windows_gnu=$CROSS-ar
  exec "$@"
}

# The shim is compiled once per source version into the cache, then copied into the prefix.
shim_dll() {
  local sum dir
  sum=$(sha256sum "$HERE/bcryptprimitives.c" | cut -c1-12)
  dir="$TOOLS_ROOT/bcryptprimitives-shim-$sum"
  if [ ! -f "$dir/bcryptprimitives.dll" ]; then
    tc_log "compiling the Wine-only bcryptprimitives.dll shim into $dir"
    mkdir -p "$dir.tmp"
    $CROSS-gcc -O2 -shared -s -o "$dir.tmp/bcryptprimitives.dll" "$HERE/bcryptprimitives.c" -ladvapi32
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/bcryptprimitives.dll"
}

setup_wine() {
  install_mingw
  tc_apt "wine=$WINE_VERSION" "wine64=$WINE_VERSION" curl
  export WINEPREFIX="${WINEPREFIX:-/opt/wine-llm-proxy}"
  # No display and no network: no Mono/Gecko installers, and Wine's debug chatter is noise.
  export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    tc_log "creating the Wine prefix $WINEPREFIX"
    mkdir -p "$WINEPREFIX"
    wine wineboot -i >/dev/null 2>&1 || true
    timeout 60 wineserver -w 2>/dev/null || true
    [ -f "$WINEPREFIX/system.reg" ] || tc_die "wineboot did not create $WINEPREFIX"
  fi
  local dll target="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
  dll=$(shim_dll)
  cmp -s "$dll" "$target" || cp -f "$dll" "$target"
  printf 'export %s=%q\n' WINEPREFIX "$WINEPREFIX" WINEDEBUG "$WINEDEBUG" WINEDLLOVERRIDES "$WINEDLLOVERRIDES"
}

case "${1:-}" in
  build) shift; [ $# -gt 0 ] || tc_die "usage: $0 build CMD [ARGS...]"; run_build "$@" ;;
  wine) setup_wine ;;
  *) tc_die "usage: $0 build CMD [ARGS...] | wine" ;;
esac
