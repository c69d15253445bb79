#!/usr/bin/env bash
# Fuzzes the code that reads what upstreams send and what admins type, for a bounded time:
# the shared SSE parser, every provider's stream / answer / error decoders and the prompt
# template renderer (targets in fuzz/fuzz_targets, the properties they assert in
# fuzz/src/lib.rs). Each target starts from its committed seeds (fuzz/corpus/<target>,
# written by `cargo run --example fuzz_seeds` from the tests' fake upstream) and grows its
# corpus under target/fuzz/ (not committed). Fails if any target crashes, panics, breaks a
# property, leaks past the RSS limit or times out on one input.
#
#   bash scripts/fuzz.sh                   # every target, FUZZ_SECONDS (12) each
#   bash scripts/fuzz.sh decode_anthropic  # some targets
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh sse
#
# Not part of the test command: cargo fuzz compiles the whole tree once more with its own
# flags. The test command replays every committed input through the same properties instead
# (server/tests/e2e/fuzz_corpus.rs), so run this when changing a decoder, the SSE parser or
# the template renderer, and copy an input worth keeping from target/fuzz/ into fuzz/corpus/.
#
# The toolchain is stable: cargo fuzz's nightly-only flags (-Zsanitizer, sancov passes) are
# accepted with RUSTC_BOOTSTRAP=1. AddressSanitizer is on (FUZZ_SANITIZER=none turns it off).
# Installs cargo-fuzz (pinned; skipped when present) and a C++ compiler (Debian, as root)
# for libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
SECONDS_PER_TARGET=${FUZZ_SECONDS:-12}
RSS_LIMIT_MB=${FUZZ_RSS_MB:-2048}
SANITIZER=${FUZZ_SANITIZER:-address}
# One target per file in fuzz/fuzz_targets/ (each calls its property in fuzz/src/lib.rs).
mapfile -t ALL_TARGETS < <(ls fuzz/fuzz_targets | sed -n 's/\.rs$//p')
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
OUT=$PWD/target/fuzz

log() { printf '==> %s\n' "$*" >&2; }

if ! command -v c++ >/dev/null 2>&1; then
    log "installing a C++ compiler (libFuzzer is C++)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential >/dev/null
fi
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

export RUSTC_BOOTSTRAP=1
# --dev with opt-level 1 (fuzz/Cargo.toml): a much shorter build than release, still fast
# enough for a bounded run; debug assertions and overflow checks stay on.
FUZZ_ARGS=(--dev --sanitizer "$SANITIZER" --target-dir "$OUT/build")
log "cargo fuzz build (${TARGETS[*]}; sanitizer: $SANITIZER)"
started=$(date +%s)
for target in "${TARGETS[@]}"; do
    cargo fuzz build "${FUZZ_ARGS[@]}" "$target"
done
log "build took $(($(date +%s) - started)) s"

failed=()
summary=()
for target in "${TARGETS[@]}"; do
    corpus=$OUT/corpus/$target
    artifacts=$OUT/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    dict=()
    [ "$target" != template ] && dict=(-dict="$PWD/fuzz/upstream.dict")
    run_log=$OUT/$target.log
    log "fuzzing $target for ${SECONDS_PER_TARGET}s"
    # New inputs go to the first corpus folder (target/fuzz/…); the seeds are only read.
    if cargo fuzz run "${FUZZ_ARGS[@]}" "$target" "$corpus" "fuzz/corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb="$RSS_LIMIT_MB" -timeout=10 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" >"$run_log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run_log" | tail -n1)
        cov=$(grep -o 'cov: [0-9]*' "$run_log" | tail -n1 | cut -d' ' -f2)
        summary+=("$target: ${execs:-?} runs, coverage ${cov:-?} edges, corpus $(ls "$corpus" | wc -l) new + $(ls "fuzz/corpus/$target" | wc -l) seeds")
    else
        failed+=("$target")
        summary+=("$target: FAILED (log $run_log)")
        grep -E -A40 '^(==[0-9]+==ERROR|thread .* panicked|SUMMARY)' "$run_log" | head -n 60 >&2 || tail -n 60 "$run_log" >&2
        log "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run ${FUZZ_ARGS[*]} $target $(ls -t "$artifacts" | head -n1 | sed "s|^|$artifacts/|")"
    fi
done

printf '\n'
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    log "FUZZING FOUND FAILURES in: ${failed[*]}"
    exit 1
fi
log "fuzzing passed (${#TARGETS[@]} targets, ${SECONDS_PER_TARGET}s each)"
