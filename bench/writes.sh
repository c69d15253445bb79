#!/usr/bin/env bash
# Where a recorded call's disk writes go (not a test): starts a proxy the way bench/run.sh does
# (SETUP_ONLY=1, release build, pinned, fresh SQLite data folder), makes WARM sequential JSON
# calls (enough for the WAL to pass its 16 MiB restart size), then, at each concurrency,
# CALLS more (ten times as many at c=50) and reports per call: bytes handed to
# write()/pwrite() (`wchar`) and bytes sent to storage (`write_bytes`) from /proc/PID/io;
# with strace (installed with apt if missing) also bytes, writes and fsyncs per file (the
# database, its WAL and shared-memory index, sockets).
#
# Usage: bash bench/writes.sh [BIN ...]   (default: target/release/llm-proxy; several builds
# are measured one after the other, e.g. before and after a change)
# Knobs: CONCURRENCY ("1 50"), WARM (200), CALLS (2000), STRACE_CALLS (500), NO_BUILD=1
# (as bench/run.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WARM=${WARM:-200}
CALLS=${CALLS:-2000}
CONCURRENCY=${CONCURRENCY:-1 50}
STRACE_CALLS=${STRACE_CALLS:-500}
command -v strace >/dev/null || apt-get install -y -qq strace >/dev/null 2>&1 || true
[ "${NO_BUILD:-0}" = 1 ] || (cd "$ROOT" && cargo build --release -p llm-proxy --bin llm-proxy &&
    cargo build --release -p llm-proxy --example fake_upstream --example loadgen)
[ $# -gt 0 ] || set -- "${CARGO_TARGET_DIR:-$ROOT/target}/release/llm-proxy"

io() { awk '/^wchar:/ { w = $2 } /^write_bytes:/ { b = $2 } END { print w, b }' "/proc/$1/io"; }

measure() { # BIN
    local work setup env
    work=$(mktemp -d "${TMPDIR:-/tmp}/llm-proxy-writes.XXXXXX")
    NO_BUILD=1 SETUP_ONLY=1 CALLGRIND=0 PROXY_BIN="$1" OUT="$work/unused.md" \
        bash "$ROOT/bench/run.sh" >"$work/setup.log" 2>&1 &
    setup=$!
    for _ in $(seq 600); do
        env=$(sed -n 's/.*variables in \([^ ]*env.sh\).*/\1/p' "$work/setup.log")
        [ -n "$env" ] && [ -s "$env" ] && break
        kill -0 "$setup" 2>/dev/null || { cat "$work/setup.log" >&2; exit 1; }
        sleep 0.2
    done
    # shellcheck disable=SC1090
    source "$env"
    local body
    body=$(jq -nc --argjson c "$FAST_CONFIG" \
        '{config_id:$c, messages:[{role:"user", content:"你好，请用一句话介绍一下你自己。"}]}')
    calls() { # count [concurrency]
        "$LOADGEN" --url "$BASE/api/llm/call" --token "$CLIENT" --body "$body" \
            --expect '"success":true' --concurrency "${2:-1}" --requests "$1" >/dev/null
    }
    calls "$WARM"
    sleep 2
    local c n w0 b0 w1 b1
    for c in $CONCURRENCY; do
        n=$((c >= 10 ? 10 * CALLS : CALLS))
        read -r w0 b0 < <(io "$PROXY_PID")
        calls "$n" "$c"
        sleep 1.5
        read -r w1 b1 < <(io "$PROXY_PID")
        echo "$1 c=$c: $(((w1 - w0) / n)) bytes written (wchar) and $(((b1 - b0) / n)) bytes to storage (write_bytes) per call"
        strace_calls "$c"
    done
    kill "$PROXY_PID" "$setup" 2>/dev/null || true
    wait "$setup" 2>/dev/null || true
    rm -rf "$work"
}

strace_calls() { # concurrency: bytes, writes and fsyncs per file
    if command -v strace >/dev/null; then
        strace -f -e trace=write,pwrite64,fsync,fdatasync -p "$PROXY_PID" -o "$work/strace" 2>/dev/null &
        local tracer=$!
        sleep 1
        calls "$STRACE_CALLS" "$1"
        sleep 1.2
        kill "$tracer"
        wait "$tracer" 2>/dev/null || true
        # fd -> file name, then per file: bytes and writes per call, fsyncs in all.
        for fd in /proc/"$PROXY_PID"/fd/*; do
            echo "${fd##*/} $(readlink "$fd" | sed "s|$work/||; s|.*/data/||")"
        done >"$work/fds"
        awk -v n="$STRACE_CALLS" '
            NR == FNR { name[$1] = $2; next }
            # "PID pwrite64(15, ..., 4120, 0) = 4120", "PID fsync(15) = 0"; a call another
            # thread interrupted ("<unfinished ...>") is not counted.
            # Summed per file: every connection has its own descriptors of the same files.
            { fd = $2; sub(/^[a-z0-9]*\(/, "", fd); sub(/[,)].*/, "", fd); file = name[fd] }
            /^[0-9]+ +(write|pwrite64)\(/ && $NF ~ /^[0-9]+$/ { bytes[file] += $NF; writes[file]++ }
            /^[0-9]+ +f(data)?sync\(/ { syncs[file]++ }
            END {
                for (f in bytes) printf "  %-24s %8.0f bytes %5.1f writes per call\n", f, bytes[f] / n, writes[f] / n
                for (f in syncs) printf "  %-24s %d fsyncs in %d calls\n", f, syncs[f], n
            }' "$work/fds" "$work/strace" | sort
    fi
}

for bin in "$@"; do measure "$bin"; done
