#!/usr/bin/env bash
# Toolchain for the admin UI (ui/, Yew built with trunk for wasm32-unknown-unknown) on Debian 12,
# without a rustup wasm target. Installs what is missing (run as root; a second run only checks
# that the versioned folders exist), fetches the crates, then runs one command in the
# environment, from the current directory (the UI crate's):
#
#   (cd ui && bash ../scripts/toolchain/wasm.sh trunk build --release)
#
# scripts/build-ui.sh uses it. Pinned: trunk $TRUNK_VERSION, wasm-bindgen-cli at the version
# ../Cargo.lock locks (trunk refuses any other), binaryen (wasm-opt) $BINARYEN_VERSION from npm,
# and Debian's rustc-web (see common.sh). Like windows.sh, nothing is committed as cargo
# configuration: with a rustup wasm32 target, plain `trunk build` works as well.
#
# Knobs: LLM_PROXY_TOOLS (cache root, default /opt/llm-proxy-tools), TRUNK_VERSION,
# BINARYEN_VERSION, TOOLCHAIN_QUIET=1.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

TRUNK_VERSION="${TRUNK_VERSION:-0.22.1}"
BINARYEN_VERSION="${BINARYEN_VERSION:-132.0.0}"
WASM_BINDGEN_VERSION="$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
[ -n "$WASM_BINDGEN_VERSION" ] || tc_die "no wasm-bindgen in $ROOT/Cargo.lock"

[ $# -gt 0 ] || tc_die "usage: $0 CMD [ARGS...]   (e.g. trunk build --release, from ui/)"

tc_rust_web
# rustc links wasm with rust-lld, which rust-web-llvm ships only as a link to lld-NN (the LLVM
# rustc-web is built with); that package is separate.
lld="$(readlink /usr/bin/rust-lld || true)"
case "$lld" in lld-[0-9]*) tc_apt "$lld" ;; *) tc_die "unexpected /usr/bin/rust-lld -> '$lld'" ;; esac

# cargo install builds these tools for the host with Debian's cargo/rustc, without -Z flags.
host_cargo() { env -u RUSTC_BOOTSTRAP -u CARGO_UNSTABLE_BUILD_STD RUSTC=/usr/bin/rustc /usr/bin/cargo "$@"; }

TRUNK_DIR="$TOOLS_ROOT/trunk-$TRUNK_VERSION"
if [ ! -x "$TRUNK_DIR/bin/trunk" ]; then
  tc_log "building trunk $TRUNK_VERSION (about 15 min on 2 cores)"
  # trunk declares a rust-version one patch above Debian's 1.96.0 and builds fine with it. Its
  # own fat LTO costs minutes for nothing here.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    host_cargo install --quiet --locked --ignore-rust-version trunk --version "$TRUNK_VERSION" \
    --root "$TRUNK_DIR.tmp"
  rm -rf "$TRUNK_DIR" && mv "$TRUNK_DIR.tmp" "$TRUNK_DIR"
fi

BINDGEN_DIR="$TOOLS_ROOT/wasm-bindgen-$WASM_BINDGEN_VERSION"
if [ ! -x "$BINDGEN_DIR/bin/wasm-bindgen" ]; then
  tc_log "building wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 min)"
  errors="$(mktemp)"
  if ! host_cargo install --quiet --locked wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" \
      --root "$BINDGEN_DIR.tmp" 2>"$errors"; then
    # 0.2.130's published lock file pins webpki-roots 1.0.11, which crates.io no longer serves:
    # re-lock only the crates cargo names as unavailable, in a copy of the source, and build
    # that copy with its lock file otherwise untouched.
    src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"wasm-bindgen-cli-$WASM_BINDGEN_VERSION" | head -n1)"
    copy="$(mktemp -d)"
    cp -R "$src/." "$copy/"
    for _ in 1 2 3 4 5; do
      crate="$(sed -n 's/.*requirement `\([A-Za-z0-9_-]*\) = .*locked to.*/\1/p' "$errors" | head -n1)"
      [ -n "$crate" ] || { cat "$errors" >&2; tc_die "wasm-bindgen-cli $WASM_BINDGEN_VERSION did not build"; }
      tc_log "wasm-bindgen-cli's lock file pins an unavailable $crate: re-locking only that crate"
      (cd "$copy" && host_cargo update --quiet -p "$crate")
      if host_cargo install --quiet --locked --path "$copy" --root "$BINDGEN_DIR.tmp" 2>"$errors"; then
        break
      fi
    done
    rm -rf "$copy"
  fi
  rm -f "$errors"
  [ -x "$BINDGEN_DIR.tmp/bin/wasm-bindgen" ] || tc_die "wasm-bindgen-cli $WASM_BINDGEN_VERSION did not build"
  rm -rf "$BINDGEN_DIR" && mv "$BINDGEN_DIR.tmp" "$BINDGEN_DIR"
fi

# Debian's binaryen (108) cannot read what rustc 1.96 emits; npm's ships a working wasm-opt.
# ui/index.html keeps wasm-opt off today (the bundle is stripped instead, and the two do not
# mix); the tool is here so that turning it on needs no toolchain change.
BINARYEN_DIR="$TOOLS_ROOT/binaryen-$BINARYEN_VERSION"
if [ ! -x "$BINARYEN_DIR/bin/wasm-opt" ]; then
  command -v npm >/dev/null || tc_apt nodejs npm
  tc_log "npm install binaryen@$BINARYEN_VERSION"
  npm install --global --silent --no-fund --no-audit --prefix "$BINARYEN_DIR.tmp" "binaryen@$BINARYEN_VERSION" >/dev/null
  rm -rf "$BINARYEN_DIR" && mv "$BINARYEN_DIR.tmp" "$BINARYEN_DIR"
fi

# The environment of the one command. trunk runs cargo, wasm-bindgen and wasm-opt from PATH;
# -Zbuild-std builds std for wasm32 from rust-web-src (trunk passes --target, so host build
# scripts are unaffected); offline, trunk never downloads a tool of another version.
tc_rust_web_env
export PATH="$TRUNK_DIR/bin:$BINDGEN_DIR/bin:$BINARYEN_DIR/bin:$PATH"
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
export TRUNK_OFFLINE=true TRUNK_SKIP_VERSION_CHECK=true
export TRUNK_TOOLS_WASM_OPT="version_${BINARYEN_VERSION%%.*}"
# TRUNK_OFFLINE also makes cargo offline: fetch the crates, std's own dependencies included
# (build-std needs them), while the network is allowed.
if [ -f Cargo.toml ]; then
  tc_log "cargo fetch for wasm32 (crates and std's dependencies)"
  cargo fetch --target wasm32-unknown-unknown >&2
fi
exec "$@"
