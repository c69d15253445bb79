#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every test on SQLite and on a real
# PostgreSQL server that this script starts itself (browser tests in Debian's Chromium
# included), then the release artifacts built (scripts/release.sh, which cross-builds the
# Windows .exe once) and that .exe smoke-tested under Wine. The SDK tests drive the server
# with the official openai and anthropic Python packages from a venv; schemathesis fuzzes the
# API against its own OpenAPI spec (from another venv); cargo fuzz runs every fuzz target for
# a bounded time (scripts/fuzz.sh). Installs what it needs
# (Debian packages; run as root). Fails on the first failing step.
#
# Time: the release builds are CPU work and the test runs mostly wait (on sockets, timers and
# child processes), so once the test binary is built the release builds run beside the tests,
# at a lower priority, and are waited for before the Wine smoke test. Everything that installs
# Debian packages runs first, in the foreground: two apt-gets at once would fight over dpkg's
# lock.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step shows the time since the start, so a slow step names itself in the log.
step() { printf '\n==> [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

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

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --all-targets -- -D warnings
cargo clippy -p llm-proxy-ui --all-targets -- -D warnings

step "admin UI logic tests (host)"
cargo test -p llm-proxy-ui

step "PostgreSQL server, Windows cross-build toolchain and Wine (Debian packages, before anything runs beside)"
PG_URL=$(bash scripts/start-postgres.sh)
cleanup() {
  # A failed step must not leave the release build running in the background.
  [ -z "${RELEASE_PID:-}" ] || kill -- "-$RELEASE_PID" 2>/dev/null || true
  su postgres -s /bin/sh -c "$(ls /usr/lib/postgresql/*/bin/pg_ctl | tail -n1) -D /tmp/llm-proxy-pg/data -m fast stop" >/dev/null 2>&1 || true
}
trap cleanup EXIT
bash scripts/toolchain/windows.sh build true
export SMOKE_WINEPREFIX=/opt/wine-llm-proxy-smoke   # the prefix windows-smoke.sh uses
WINEPREFIX=$SMOKE_WINEPREFIX bash scripts/toolchain/windows.sh wine >/dev/null
command -v zip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zip >/dev/null; }

step "building the tests"
cargo test -p llm-proxy --no-run

step "release artifacts, started beside the tests (log: target/ci-release.log)"
mkdir -p target
# Its own process group (setsid), so that cleanup can stop it with every compiler it started.
# The two release builds are the largest compile of the run, so CI builds them with less
# optimisation (opt-level 1, no LTO, more codegen units): what CI checks is that they build,
# embed the UI, package, and that the .exe works under Wine, not how fast they run.
# `bash scripts/release.sh` on its own builds the shipping profile from Cargo.toml.
CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  setsid nice -n 15 bash scripts/release.sh >target/ci-release.log 2>&1 &
RELEASE_PID=$!

step "tests on SQLite (with the schemathesis API contract test)"
LLM_PROXY_SCHEMATHESIS_PYTHON="$LLM_PROXY_SCHEMATHESIS_PYTHON" cargo test -p llm-proxy

step "tests on PostgreSQL"
LLM_PROXY_TEST_DATABASE_URL="$PG_URL" cargo test -p llm-proxy --tests -- --skip schemathesis::

step "fuzzing: SSE parser, provider decoders, template renderer (scripts/fuzz.sh, ~12 s a target)"
bash scripts/fuzz.sh

step "release artifacts (Linux binary, Windows .exe cross-built with mingw-w64) into dist/"
if ! wait "$RELEASE_PID"; then
  RELEASE_PID=
  cat target/ci-release.log
  echo "scripts/release.sh failed" >&2
  exit 1
fi
RELEASE_PID=
tail -n 12 target/ci-release.log

step "Windows .exe: smoke test under Wine (the .exe release.sh built)"
LINUX_BIN=target/debug/llm-proxy bash scripts/windows-smoke.sh

step "all tests passed in $((SECONDS / 60)) min $((SECONDS % 60)) s"
