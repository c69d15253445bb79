# shellcheck shell=bash
# Shared by windows.sh and wasm.sh (sourced, never run): logging and pinned Debian installs.
# Everything lands in one cache root, one folder per tool and version, so a second run only
# checks that the folders exist.

TOOLS_ROOT="${LLM_PROXY_TOOLS:-/opt/llm-proxy-tools}"

tc_log() { [ "${TOOLCHAIN_QUIET:-0}" = 1 ] || echo "[toolchain] $*" >&2; }
tc_die() { echo "[toolchain] error: $*" >&2; exit 1; }

# tc_apt NAME[=VERSION]...: installs the packages that are missing or at another version.
# apt-get update runs only when something must be installed and the first attempt fails
# (a fresh machine has no package lists; a pinned version may need newer lists).
tc_apt() {
  local spec name want state todo=()
  for spec in "$@"; do
    name=${spec%%=*}
    want=${spec#"$name"}; want=${want#=}
    state=$(dpkg-query -W -f='${Status}|${Version}' "$name" 2>/dev/null || true)
    case "$state" in
      "install ok installed|$want") ;;
      "install ok installed|"*) [ -z "$want" ] || todo+=("$spec") ;;
      *) todo+=("$spec") ;;
    esac
  done
  [ ${#todo[@]} -eq 0 ] && return 0
  tc_log "apt-get install ${todo[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends --allow-downgrades "${todo[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends --allow-downgrades "${todo[@]}" >/dev/null
  fi
}

# Debian 12's rustc-web: a newer Rust than bookworm's rustc, with std sources (rust-web-src) so
# that -Zbuild-std can build std for targets rustup is not asked to provide. rust-web-llvm is
# only a Recommends of rustc-web, hence listed.
RUST_WEB_VERSION="${RUST_WEB_VERSION:-1.96.0+dfsg1-1~deb12u2}"
tc_rust_web() {
  tc_apt "rustc-web=$RUST_WEB_VERSION" "cargo-web=$RUST_WEB_VERSION" \
    "rust-web-src=$RUST_WEB_VERSION" "rust-web-llvm=$RUST_WEB_VERSION" ca-certificates
  [ -d /usr/lib/rustlib/src/rust/library ] || tc_die "rust-web-src installed no std sources"
}

# The part of the environment both targets share. /usr/bin goes first so that cargo and rustc
# are Debian's (rustup's proxies in ~/.cargo/bin have no std for these targets);
# RUSTC_BOOTSTRAP lets that stable compiler take the -Z build-std setting.
tc_rust_web_env() {
  export PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
}
