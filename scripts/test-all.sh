#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every test on SQLite and on a real
# PostgreSQL server that this script starts itself (browser tests in Debian's Chromium
# included), then the release artifacts built (scripts/release.sh, which cross-builds the
# Windows .exe once) and that .exe smoke-tested under Wine. The SDK tests drive the server
# with the official openai and anthropic Python packages from a venv; schemathesis fuzzes the
# API against its own OpenAPI spec (from another venv); the fuzz targets' properties run on
# their committed corpora (server/tests/e2e/fuzz_corpus.rs). Installs what it needs (Debian
# packages; run as root). Fails on the first failing step.
#
# Time (the aim: under 30 minutes on 2 cores from a fresh clone): compiling is most of it, so
# nothing is compiled twice.
# - Clippy runs inside the test build. `cargo clippy` is `cargo check` with clippy-driver as
#   cargo's RUSTC_WORKSPACE_WRAPPER; here the test build gets that wrapper and the same
#   arguments (`-D warnings`), so our crates are linted as they are compiled (every target
#   `cargo clippy --all-targets` lints: library, binary, tests, examples) and the dependencies
#   are compiled once instead of once more just to be checked. A lint fails the build.
# - The Linux binary that scripts/release.sh packages is the one the tests ran (LINUX_BINARY);
#   `bash scripts/release.sh` on its own builds the shipping release profile.
# - The one other compile, the Windows .exe, runs in the background at a lower priority beside
#   the tests, which mostly wait on sockets, timers and child processes. It is built with less
#   optimisation (opt-level 1, no LTO): CI checks that it builds, embeds the UI, packages and
#   works under Wine, not how fast it runs.
# - Fuzzing (`bash scripts/fuzz.sh`) is not part of this command: cargo fuzz compiles the whole
#   tree once more with its own flags, about as long as the tests' build. The targets'
#   properties still run here, on every committed corpus input (the e2e test fuzz_corpus).
# Everything that installs Debian packages runs first, in the foreground: two apt-gets at once
# would fight over dpkg's lock.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step shows the time since the start and the CPU seconds (user + system) that the
# commands finished so far have used, from bash's `times`, which must run in this shell.
CPU_TIMES=$(mktemp)
step() {
  times >"$CPU_TIMES"
  printf '\n==> [%d:%02d, %s CPU-s] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) \
    "$(tail -n1 "$CPU_TIMES" | awk '{ t = 0; for (i = 1; i <= NF; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] } printf "%d", t }')" "$*"
}

# Runs a cargo command with clippy's lints on our crates, as `cargo clippy -- -D warnings` does.
CLIPPY_DRIVER="$(rustc --print sysroot)/bin/clippy-driver"
with_clippy() {
  RUSTC_WORKSPACE_WRAPPER="$CLIPPY_DRIVER" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" "$@"
}

step "prerequisites (Debian packages for the browser tests)"
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk
fi

step "Python venv with the official openai and anthropic SDKs (scripts/sdk-venv.sh)"
# Read by the SDK test (server/tests/e2e/sdk.rs) in both runs below; it fails without it.
LLM_PROXY_SDK_PYTHON=$(bash scripts/sdk-venv.sh)
export LLM_PROXY_SDK_PYTHON

step "Python venv with schemathesis (scripts/schemathesis-venv.sh)"
# Read by the API contract test (server/tests/e2e/schemathesis.rs) in the SQLite run; it fails
# without it. The PostgreSQL run skips it: the HTTP contract does not depend on the database.
LLM_PROXY_SCHEMATHESIS_PYTHON=$(bash scripts/schemathesis-venv.sh)

step "cargo fmt --check"
cargo fmt --all --check

step "PostgreSQL server, Windows cross-build toolchain and Wine (Debian packages, before anything runs beside)"
[ -x "$CLIPPY_DRIVER" ] || { echo "no clippy-driver in $(rustc --print sysroot)/bin (rustup component add clippy)" >&2; exit 1; }
PG_URL=$(bash scripts/start-postgres.sh)
cleanup() {
  # A failed step must not leave the release build running in the background.
  [ -z "${RELEASE_PID:-}" ] || kill -- "-$RELEASE_PID" 2>/dev/null || true
  su postgres -s /bin/sh -c "$(ls /usr/lib/postgresql/*/bin/pg_ctl | tail -n1) -D /tmp/llm-proxy-pg/data -m fast stop" >/dev/null 2>&1 || true
  rm -f "$CPU_TIMES"
}
trap cleanup EXIT
bash scripts/toolchain/windows.sh build true
export SMOKE_WINEPREFIX=/opt/wine-llm-proxy-smoke   # the prefix windows-smoke.sh uses
WINEPREFIX=$SMOKE_WINEPREFIX bash scripts/toolchain/windows.sh wine >/dev/null
command -v zip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zip >/dev/null; }

step "cargo clippy --all-targets -- -D warnings, with the build of the tests (see the top of this file)"
with_clippy cargo test -p llm-proxy --no-run

step "admin UI: clippy and its logic tests (host)"
with_clippy cargo test -p llm-proxy-ui

step "release artifacts, built beside the tests (log: target/ci-release.log)"
mkdir -p target
# Its own process group (setsid), so that cleanup can stop it with every compiler it started.
LINUX_BINARY=target/debug/llm-proxy \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  setsid nice -n 15 bash scripts/release.sh >target/ci-release.log 2>&1 &
RELEASE_PID=$!

step "tests on SQLite (with the schemathesis API contract test)"
LLM_PROXY_SCHEMATHESIS_PYTHON="$LLM_PROXY_SCHEMATHESIS_PYTHON" with_clippy cargo test -p llm-proxy

step "tests on PostgreSQL"
LLM_PROXY_TEST_DATABASE_URL="$PG_URL" with_clippy cargo test -p llm-proxy --tests -- --skip schemathesis::

step "release artifacts (Linux binary, Windows .exe cross-built with mingw-w64) into dist/"
if ! wait "$RELEASE_PID"; then
  RELEASE_PID=
  cat target/ci-release.log
  echo "scripts/release.sh failed" >&2
  exit 1
fi
RELEASE_PID=
tail -n 12 target/ci-release.log

step "the WAL bound under readers, alone (ignored above: the build beside slowed its checkpoints)"
with_clippy cargo test -p llm-proxy --lib -- --ignored relay::recorder::tests::the_wal_stays_bounded

step "Windows .exe: smoke test under Wine (the .exe release.sh built)"
LINUX_BIN=target/debug/llm-proxy bash scripts/windows-smoke.sh

step "all tests passed in $((SECONDS / 60)) min $((SECONDS % 60)) s"
