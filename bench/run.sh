#!/usr/bin/env bash
# What the proxy adds over calling the upstream directly: latency (p50/p99), requests per
# second, proxy CPU per call and memory, with every call durably recorded and the records
# counted afterwards. One command:
#
#   bash bench/run.sh
#
# Builds the release binaries (llm-proxy, examples fake_upstream and loadgen), starts two fake
# upstreams (instant and 50 ms, OpenAI protocol) and the proxy on a fresh SQLite data folder,
# pins the proxy to one core and the fake upstreams + load generator + this script to the
# other, creates a config/group/activation code through the admin API, warms up, then runs
# direct-vs-proxy for concurrency 1, 10 and 50, non-stream and stream, plus the 50 ms upstream
# at concurrency 50; then an open-loop rate sweep, and instructions per call with the proxy
# under callgrind. Prints a markdown report and writes it to bench/results.md.
#
# Besides latency and throughput it measures: bytes the proxy writes to disk per call
# (/proc/PID/io write_bytes, instant JSON at c=1 and c=50), the SQLite WAL's largest size
# during the closed-loop cells, the highest open-loop rate (requests sent on a fixed schedule,
# latency counted from the due time) whose p99 stays within 10 ms, RSS after start-up and
# after the first admin login, and instructions per JSON and per stream call: a second proxy
# runs under `valgrind --tool=callgrind`; counters are dumped before and after N1 and N2
# sequential calls, and (I(N2) − I(N1)) / (N2 − N1) leaves out start-up and fixed costs.
#
# Direct and proxied runs alternate in ROUNDS slices per cell (so load from other processes on
# the machine hits both sides alike) and each side's slices are merged.
#
# Knobs (environment): DURATION (seconds per cell and side, default 10), ROUNDS (5),
# WARMUP (seconds, default 3),
# CONCURRENCY ("1 10 50"), PROXY_CPU (0), LOAD_CPU (1), OUT (bench/results.md),
# KEEP=1 keeps the temp folder (database, proxy log), NO_BUILD=1 skips cargo build,
# SETUP_ONLY=1 starts and configures everything, writes TMP/env.sh and waits (for profiling),
# PROXY_BIN=path runs another build of the server (e.g. one with symbols, for perf),
# PROXY_ENV="NAME=value ..." adds environment to the proxy only (experiments, e.g.
# MALLOC_MMAP_THRESHOLD_=131072),
# OPEN_RATES ("500 1000 2000 3000 4000 6000 8000 12000" requests/s, the sweep stops at the
# first rate missing p99 ≤ 10 ms), OPEN_SECS (3 per rate), OPEN_CONNS (128),
# CALLGRIND=0 skips the callgrind pass, CALLGRIND_CALLS ("100 400", N1 and N2),
# BEFORE_BIN=path also measures that build (e.g. the commit before a change) in the same run,
# first, and ends the report with a before/after table beside the goals (ratios from one run
# on a noisy machine mean more than figures from two runs).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-5}
CONCURRENCY=${CONCURRENCY:-"1 10 50"}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=${OUT:-$ROOT/bench/results.md}
OPEN_RATES=${OPEN_RATES:-"500 1000 2000 3000 4000 6000 8000 12000"}
OPEN_SECS=${OPEN_SECS:-3}
OPEN_CONNS=${OPEN_CONNS:-128}
CALLGRIND=${CALLGRIND:-1}
CALLGRIND_CALLS=${CALLGRIND_CALLS:-"100 400"}
SUMMARY=${SUMMARY:-${OUT%.md}.summary.json}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
ADMIN_PASSWORD='Bench-Admin-Passw0rd!'
PROMPT='你好，请用一句话介绍一下你自己。'
FAST_NAME=bench-instant # the instant upstream's config: what an SDK's call names as `model`

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
need() { # command, apt package
    command -v "$1" >/dev/null 2>&1 && return
    log "installing $2"
    if command -v apt-get >/dev/null 2>&1; then
        local sudo=""
        [ "$(id -u)" -ne 0 ] && sudo=sudo
        $sudo apt-get install -y -qq "$2" >/dev/null 2>&1 ||
            { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "$2" >/dev/null; }
    fi
    command -v "$1" >/dev/null 2>&1 || die "$1 is required (apt-get install $2)"
}
need curl curl
need jq jq
need sqlite3 sqlite3
need taskset util-linux
[ "$CALLGRIND" = 1 ] && need callgrind_control valgrind

CPUS=$(nproc --all)
PIN=1
if [ "$CPUS" -lt 2 ] || ! taskset -c "$PROXY_CPU,$LOAD_CPU" true 2>/dev/null; then
    log "WARNING: cannot pin to CPUs $PROXY_CPU and $LOAD_CPU (nproc $CPUS): running unpinned"
    PIN=0
fi
PROXY_PIN=()
[ $PIN = 1 ] && PROXY_PIN=(taskset -c "$PROXY_CPU")
# This script and everything it starts (curl, sqlite3, loadgen, fakes) stays off the proxy's core.
[ $PIN = 1 ] && taskset -pc "$LOAD_CPU" $$ >/dev/null

# ---------------------------------------------------------------- build
if [ "${NO_BUILD:-0}" != 1 ]; then
    log "cargo build --release (llm-proxy, examples fake_upstream and loadgen)"
    build_started=$(date +%s)
    # Two steps: the server exactly as `cargo build --release` makes it, then the examples
    # (which unify dev-dependency features, e.g. tokio's test-util, into their own build).
    (cd "$ROOT" && cargo build --release -p llm-proxy --bin llm-proxy &&
        cargo build --release -p llm-proxy --example fake_upstream --example loadgen)
    log "build took $(($(date +%s) - build_started)) s"
fi
PROXY_BIN=${PROXY_BIN:-$TARGET_DIR/release/llm-proxy}

if [ -n "${BEFORE_BIN:-}" ]; then
    # Two full passes of this script, the other build first, then the before/after table.
    [ -x "$BEFORE_BIN" ] || die "BEFORE_BIN $BEFORE_BIN is not an executable"
    BOTH=$(mktemp -d "${TMPDIR:-/tmp}/llm-proxy-bench-both.XXXXXX")
    trap 'rm -rf "$BOTH"' EXIT
    # Read into its own name first: in `A="" B="$A" cmd` bash has already emptied A when it
    # expands B, which ran the before pass on the default build.
    before=$BEFORE_BIN
    BEFORE_BIN="" NO_BUILD=1 PROXY_BIN="$before" OUT="${OUT%.md}.before.md" \
        SUMMARY="$BOTH/before.json" bash "$0" >/dev/null || log "WARNING: the before pass failed its checks"
    BEFORE_BIN="" NO_BUILD=1 PROXY_BIN="$PROXY_BIN" OUT="$OUT" SUMMARY="$BOTH/after.json" \
        bash "$0" >/dev/null || log "WARNING: the after pass failed its checks"
    ran() { jq -r '"`\(.binary)` (SHA-256 \(.binary_sha)…)"' "$BOTH/$1.json"; }
    [ "$(jq -r .binary_sha "$BOTH/before.json")" != "$(jq -r .binary_sha "$BOTH/after.json")" ] ||
        log "WARNING: the before and after passes ran the same build"
    {
        echo
        echo "### Before / after"
        echo
        echo "Before: $(ran before) (full report in $(basename "${OUT%.md}").before.md); after: $(ran after). Same machine, same run, one pass after the other."
        echo
        echo "| figure | goal | before | after | after / before |"
        echo "|---|---|--:|--:|--:|"
        jq -rn --slurpfile b "$BOTH/before.json" --slurpfile a "$BOTH/after.json" '
            def fmt: if . == null then "–" elif (. | type) == "number" and . != (. | floor)
                then (. * 100 | round / 100 | tostring) else tostring end;
            $b[0] as $b | $a[0] as $a | $a.goals[] |
            "| \(.name) | \(.goal) | \($b[.key] | fmt) | \($a[.key] | fmt) | \(
                if ($b[.key] // 0) == 0 or $a[.key] == null then "–"
                else ($a[.key] / $b[.key] * 100 | round / 100 | tostring) end) |"'
    } >>"$OUT"
    cat "$OUT"
    exit 0
fi
FAKE_BIN=$TARGET_DIR/release/examples/fake_upstream
LOADGEN_BIN=$TARGET_DIR/release/examples/loadgen
for bin in "$PROXY_BIN" "$FAKE_BIN" "$LOADGEN_BIN"; do
    [ -x "$bin" ] || die "missing $bin (build failed?)"
done
# Names the build in the summary, so a before/after table shows what each pass really ran.
BINARY_SHA=$(sha256sum "$PROXY_BIN" | cut -c1-12)

# ---------------------------------------------------------------- processes
TMP=$(mktemp -d "${TMPDIR:-/tmp}/llm-proxy-bench.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "${KEEP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap "exit 130" INT TERM

free_port() {
    local port
    for port in $(seq 18080 18999); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
    die "no free port"
}

start_fake() { # delay_ms -> sets FAKE_URL, FAKE_KEY, FAKE_PID
    local out=$TMP/fake-$1.out
    "$FAKE_BIN" --delay-ms "$1" >"$out" 2>&1 &
    FAKE_PID=$!
    PIDS+=("$FAKE_PID")
    for _ in $(seq 100); do
        [ -s "$out" ] && break
        sleep 0.05
    done
    read -r FAKE_URL FAKE_KEY <"$out" || die "fake upstream did not start: $(cat "$out")"
}

start_fake 0
FAST_URL=$FAKE_URL FAST_PID=$FAKE_PID KEY=$FAKE_KEY
start_fake 50
SLOW_URL=$FAKE_URL SLOW_PID=$FAKE_PID
log "fake upstreams: $FAST_URL (instant), $SLOW_URL (50 ms)"

start_proxy() { # data-folder log [wrapper command...] -> PROXY_PID, BASE
    local data=$1 out=$2
    shift 2
    PORT=$(free_port)
    BASE=http://127.0.0.1:$PORT
    env -u LLM_PROXY_DATABASE_URL -u LLM_PROXY_JWT_SECRET -u ENCRYPTION_SECRET_KEY \
        LLM_PROXY_BIND=127.0.0.1:$PORT \
        LLM_PROXY_DATA_DIR="$data" \
        LLM_PROXY_ADMIN_USERNAME=admin \
        LLM_PROXY_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        LLM_PROXY_LOG=warn \
        LLM_PROXY_DEFAULT_REQUESTS_PER_MINUTE=100000000 \
        LLM_PROXY_OPEN_BROWSER=false \
        ${PROXY_ENV:-} \
        "${PROXY_PIN[@]}" "$@" "$PROXY_BIN" --config "$TMP/config.toml" serve >"$out" 2>&1 &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    # Up to 10 minutes: under callgrind start-up (migrations) is ~50 times slower.
    for _ in $(seq 6000); do
        curl -fsS "$BASE/api/health" >/dev/null 2>&1 && break
        kill -0 "$PROXY_PID" 2>/dev/null || die "proxy exited: $(cat "$out")"
        sleep 0.1
    done
    curl -fsS "$BASE/api/health" >/dev/null || die "proxy did not start: $(cat "$out")"
}

DATA=$TMP/data
start_proxy "$DATA" "$TMP/proxy.log"
START_RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PROXY_PID/status")
DB=$DATA/llm-proxy.db
[ -f "$DB" ] || die "no SQLite database at $DB"
log "proxy on $BASE (pid $PROXY_PID), data $DATA"

# ---------------------------------------------------------------- set-up through the admin API
api() { # method path token json -> data (exits on failure)
    local answer
    answer=$(curl -sS -X "$1" "$BASE$2" -H 'content-type: application/json' \
        ${3:+-H "authorization: Bearer $3"} ${4:+--data "$4"})
    [ "$(jq -r .success <<<"$answer")" = true ] || die "$1 $2 failed: $answer"
    jq -c .data <<<"$answer"
}
login() { ADMIN=$(api POST /api/auth/login "" "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .token); }
config() { # name url -> id
    api POST /api/admin/llm/configs "$ADMIN" "$(jq -nc --arg name "$1" --arg url "$2" --arg key "$KEY" \
        '{name:$name, provider:"openai", api_url:$url, api_key:$key, model:"gpt-4o-mini",
          max_tokens:256, max_retries:0, timeout_seconds:30}')" | jq -r .id
}
client_of() { # group json -> a client token of a new group
    local group code
    group=$(api POST /api/admin/groups "$ADMIN" "$1" | jq -r .id)
    code=$(api POST /api/admin/activation-codes "$ADMIN" "{\"group_id\":$group}" | jq -r .code)
    api POST /api/auth/activate "" "{\"activation_code\":\"$code\"}" | jq -r .token
}
api_key_of() { # group json -> an API key of a new group (the OpenAI-compatible API's caller)
    local group
    group=$(api POST /api/admin/groups "$ADMIN" "$1" | jq -r .id)
    api POST /api/admin/api-keys "$ADMIN" "{\"name\":\"bench\",\"group_id\":$group}" | jq -r .key
}
set_up() { # configs, groups and client tokens on the proxy at BASE
    FAST_CONFIG=$(config "$FAST_NAME" "$FAST_URL")
    SLOW_CONFIG=$(config bench-50ms "$SLOW_URL")
    CLIENT=$(client_of '{"name":"bench"}')
    # Limits far above what the bench uses: admission reserves and records release, as for
    # a business that caps its groups.
    LIMITED_CLIENT=$(client_of '{"name":"bench-limited", "daily_token_limit":1000000000,
        "monthly_token_limit":10000000000, "daily_cost_limit":1000000}')
    SDK_KEY=$(api_key_of '{"name":"bench-sdk"}')
}
login
# Argon2 has just verified the admin's password: what that leaves behind counts here.
sleep 1
LOGIN_RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PROXY_PID/status")
set_up

if [ "${SETUP_ONLY:-0}" = 1 ]; then
    # For profiling by hand: everything is up; source this file, then press Ctrl+C to stop.
    cat >"$TMP/env.sh" <<ENV
BASE=$BASE
PROXY_PID=$PROXY_PID
FAST_URL=$FAST_URL
SLOW_URL=$SLOW_URL
KEY=$KEY
FAST_CONFIG=$FAST_CONFIG
SLOW_CONFIG=$SLOW_CONFIG
CLIENT=$CLIENT
LIMITED_CLIENT=$LIMITED_CLIENT
SDK_KEY=$SDK_KEY
DB=$DB
LOADGEN=$LOADGEN_BIN
ENV
    log "set up; variables in $TMP/env.sh; Ctrl+C stops"
    wait "$PROXY_PID"
    exit 0
fi

# ---------------------------------------------------------------- measuring helpers
cpu_ticks() { # pid -> utime+stime in clock ticks
    local stat rest
    stat=$(<"/proc/$1/stat")
    rest=${stat##*) }
    set -- $rest
    echo $((${12} + ${13}))
}
cpu_busy() { # cpu index -> busy ticks of that CPU (all processes; steal counts as busy)
    local name user nice system idle iowait irq softirq steal rest
    while read -r name user nice system idle iowait irq softirq steal rest; do
        [ "$name" = "cpu$1" ] && { echo $((user + nice + system + irq + softirq + steal)); return; }
    done </proc/stat
    echo 0
}
TICK_MS=$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN { print 1000 / hz }')
kib() { # pid field -> KiB (VmRSS, VmHWM)
    local key value unit
    while read -r key value unit; do
        [ "$key" = "$2:" ] && { echo "$value"; return; }
    done <"/proc/$1/status"
    echo 0
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
written() { awk '/^write_bytes:/ { print $2 }' "/proc/$1/io"; } # pid -> bytes sent to storage
wal_size() { stat -c %s "$DB-wal" 2>/dev/null || echo 0; }
records() { sqlite3 "$DB" "SELECT count(*) FROM llm_call_logs${1:+ WHERE $1};"; }

body_direct() { jq -nc --arg p "$PROMPT" --argjson s "$1" \
    '{model:"gpt-4o-mini", messages:[{role:"user", content:$p}], max_completion_tokens:256, stream:$s}'; }
body_proxy() { jq -nc --arg p "$PROMPT" --argjson s "$1" --argjson c "$2" \
    '{config_id:$c, messages:[{role:"user", content:$p}], stream:$s}'; }
body_v1() { jq -nc --arg p "$PROMPT" --arg m "$FAST_NAME" '{model:$m, messages:[{role:"user", content:$p}]}'; }
expect_direct() { if [ "$1" = true ]; then echo '[DONE]'; else echo '"chat.completion"'; fi; }
expect_proxy() { if [ "$1" = true ]; then echo '"type":"done"'; else echo '"success":true'; fi; }

EXPECTED_RECORDS=0
LAST=""
# load target(direct|proxy) stream(true|false) concurrency seconds upstream(fast|slow)
# -> LAST = loadgen JSON merged with proxy/fake CPU and proxy RSS during the run
load() { # ... [save-file]
    local target=$1 stream=$2 c=$3 secs=$4 upstream=$5 save=${6:-} url token body expect fake_pid config
    if [ "$upstream" = fast ]; then fake_pid=$FAST_PID config=$FAST_CONFIG url=$FAST_URL
    else fake_pid=$SLOW_PID config=$SLOW_CONFIG url=$SLOW_URL; fi
    if [ "$target" = direct ]; then
        token=$KEY body=$(body_direct "$stream") expect=$(expect_direct "$stream")
    else
        url=$BASE/api/llm/call token=$CLIENT body=$(body_proxy "$stream" "$config")
        expect=$(expect_proxy "$stream")
    fi
    local proxy0 fake0 rss_max=0 rss out=$TMP/loadgen.json
    local core0 core1 written0 wal wal_max=0
    written0=$(written "$PROXY_PID")
    proxy0=$(cpu_ticks "$PROXY_PID")
    fake0=$(cpu_ticks "$fake_pid")
    core0=$(cpu_busy "$PROXY_CPU")
    core1=$(cpu_busy "$LOAD_CPU")
    "$LOADGEN_BIN" --url "$url" --token "$token" --body "$body" --concurrency "$c" \
        --duration "$secs" --expect "$expect" ${save:+--save "$save"} >"$out" 2>"$TMP/loadgen.err" &
    local gen=$!
    while kill -0 "$gen" 2>/dev/null; do
        rss=$(kib "$PROXY_PID" VmRSS)
        [ "$rss" -gt "$rss_max" ] && rss_max=$rss
        wal=$(wal_size)
        [ "$wal" -gt "$wal_max" ] && wal_max=$wal
        sleep 0.25
    done
    wait "$gen" || die "loadgen failed: $(cat "$TMP/loadgen.err")"
    local proxy_ms fake_ms core0_ms core1_ms
    core0_ms=$(awk -v t=$(($(cpu_busy "$PROXY_CPU") - core0)) -v m="$TICK_MS" 'BEGIN { print t * m }')
    core1_ms=$(awk -v t=$(($(cpu_busy "$LOAD_CPU") - core1)) -v m="$TICK_MS" 'BEGIN { print t * m }')
    proxy_ms=$(awk -v t=$(($(cpu_ticks "$PROXY_PID") - proxy0)) -v m="$TICK_MS" 'BEGIN { print t * m }')
    fake_ms=$(awk -v t=$(($(cpu_ticks "$fake_pid") - fake0)) -v m="$TICK_MS" 'BEGIN { print t * m }')
    LAST=$(jq -c --argjson p "$proxy_ms" --argjson f "$fake_ms" --argjson r "$rss_max" \
        --argjson c0 "$core0_ms" --argjson c1 "$core1_ms" \
        --argjson w $(($(written "$PROXY_PID") - written0)) --argjson wal "$wal_max" \
        '. + {proxy_cpu_ms:$p, fake_cpu_ms:$f, proxy_rss_kib:$r, core0_ms:$c0, core1_ms:$c1,
              written_bytes:$w, wal_max_bytes:$wal}' "$out")
    local errors
    errors=$(jq -r .errors <<<"$LAST")
    [ "$errors" = 0 ] || log "WARNING: $errors errors: $(jq -r .first_error <<<"$LAST")"
    if [ "$target" = proxy ]; then
        EXPECTED_RECORDS=$((EXPECTED_RECORDS + $(jq -r .requests <<<"$LAST")))
    fi
}

# ---------------------------------------------------------------- run
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
sleep 2
IDLE_RSS=$(kib "$PROXY_PID" VmRSS)
log "idle RSS $(mib "$IDLE_RSS") MiB; warming up ${WARMUP}s per path"
for stream in false true; do
    load direct "$stream" 10 "$WARMUP" fast
    load proxy "$stream" 10 "$WARMUP" fast
done
load proxy false 10 1 slow

ROWS=()
RECORD_CHECKS_OK=1
# Merges the rounds of one side: latencies from the saved files, CPU and time summed, RSS max.
merged() { # side rounds-json...
    local side=$1 stats
    shift
    stats=$("$LOADGEN_BIN" --merge "$TMP"/"$side".*.lat)
    jq -sc --argjson m "$stats" '$m + {
        proxy_cpu_ms: (map(.proxy_cpu_ms) | add), fake_cpu_ms: (map(.fake_cpu_ms) | add),
        core0_ms: (map(.core0_ms) | add), core1_ms: (map(.core1_ms) | add),
        written_bytes: (map(.written_bytes) | add), wal_max_bytes: (map(.wal_max_bytes) | max),
        proxy_rss_kib: (map(.proxy_rss_kib) | max), rounds: length }' <<<"$(printf '%s\n' "$@")"
}
cell() { # upstream stream c: ROUNDS alternating direct/proxy slices, merged per side
    local upstream=$1 stream=$2 c=$3 direct proxy got r slice
    local -a d_rounds=() p_rounds=()
    slice=$(awk -v d="$DURATION" -v r="$ROUNDS" 'BEGIN { print d / r }')
    rm -f "$TMP"/direct.*.lat "$TMP"/proxy.*.lat
    for r in $(seq "$ROUNDS"); do
        load direct "$stream" "$c" "$slice" "$upstream" "$TMP/direct.$r.lat"
        d_rounds+=("$LAST")
        load proxy "$stream" "$c" "$slice" "$upstream" "$TMP/proxy.$r.lat"
        p_rounds+=("$LAST")
    done
    direct=$(merged direct "${d_rounds[@]}")
    proxy=$(merged proxy "${p_rounds[@]}")
    got=$(records)
    [ "$got" = "$EXPECTED_RECORDS" ] || RECORD_CHECKS_OK=0
    ROWS+=("$(jq -nc --argjson d "$direct" --argjson p "$proxy" --arg u "$upstream" \
        --argjson s "$stream" --argjson c "$c" --argjson got "$got" --argjson want "$EXPECTED_RECORDS" \
        '{upstream:$u, stream:$s, c:$c, direct:$d, proxy:$p, records:$got, expected:$want}')")
    log "$(jq -r '"\(.upstream) stream=\(.stream) c=\(.c): direct p50 \(.direct.p50_us)us p99 \(.direct.p99_us)us \(.direct.rps)/s | proxy p50 \(.proxy.p50_us)us p99 \(.proxy.p99_us)us \(.proxy.rps)/s | records \(.records)/\(.expected)"' <<<"${ROWS[-1]}")"
}
for stream in false true; do
    for c in $CONCURRENCY; do cell fast "$stream" "$c"; done
done
for stream in false true; do cell slow "$stream" 50; done
WAL_AFTER=$(wal_size)

# Open loop, instant upstream, JSON: rising rates until p99 passes 10 ms (or calls fail).
OPEN_ROWS=()
OPEN_BEST=0
for rate in $OPEN_RATES; do
    "$LOADGEN_BIN" --url "$BASE/api/llm/call" --token "$CLIENT" --body "$(body_proxy false "$FAST_CONFIG")" \
        --rate "$rate" --concurrency "$OPEN_CONNS" --duration "$OPEN_SECS" \
        --expect "$(expect_proxy false)" >"$TMP/open.json" 2>"$TMP/loadgen.err" ||
        die "loadgen failed: $(cat "$TMP/loadgen.err")"
    OPEN_ROWS+=("$(jq -c --argjson r "$rate" '. + {rate:$r}' "$TMP/open.json")")
    EXPECTED_RECORDS=$((EXPECTED_RECORDS + $(jq -r .requests "$TMP/open.json")))
    log "$(jq -r '"open loop \(.rate)/s: p50 \(.p50_us)us p99 \(.p99_us)us, \(.errors) errors"' <<<"${OPEN_ROWS[-1]}")"
    [ "$(jq -r '.errors == 0 and .p99_us <= 10000' "$TMP/open.json")" = true ] || break
    OPEN_BEST=$rate
done

sleep 2
AFTER_RSS=$(kib "$PROXY_PID" VmRSS)
PEAK_RSS=$(kib "$PROXY_PID" VmHWM)
TOTAL_RECORDS=$(records)
SUCCESS_RECORDS=$(records "status = 'success'")
STREAM_RECORDS=$(records "is_stream = 1")

# ---------------------------------------------------------------- instructions per call
# A second proxy (fresh data folder) under callgrind. Each `callgrind_control --dump` writes
# the counts since the previous dump and zeroes them, so a dump after N calls holds those
# calls (plus whatever the idle server did meanwhile); two call counts cancel fixed costs.
CG_JSON="" CG_STREAM="" CG_LIMITED="" CG_V1=""
if [ "$CALLGRIND" = 1 ]; then
    read -r CG_N1 CG_N2 <<<"$CALLGRIND_CALLS"
    CG_OUT=$TMP/callgrind.out
    CG_DUMPS=0
    cg_dump() { # -> CG_LAST: instructions since the previous dump
        CG_DUMPS=$((CG_DUMPS + 1))
        callgrind_control --dump "$PROXY_PID" >/dev/null 2>&1
        for _ in $(seq 600); do [ -s "$CG_OUT.$CG_DUMPS" ] && break; sleep 0.1; done
        CG_LAST=$(awk '/^(summary|totals):/ { print $2; exit }' "$CG_OUT.$CG_DUMPS")
        [ -n "$CG_LAST" ] || die "no callgrind dump $CG_OUT.$CG_DUMPS"
    }
    cg_calls() { # pass count
        local url=$BASE/api/llm/call token=$CLIENT body expect
        body=$(body_proxy false "$FAST_CONFIG") expect=$(expect_proxy false)
        case $1 in
        stream) body=$(body_proxy true "$FAST_CONFIG") expect=$(expect_proxy true) ;;
        limited) token=$LIMITED_CLIENT ;;
        v1) # an SDK's call: the OpenAI-compatible API with an API key, the config by name
            url=$BASE/v1/chat/completions token=$SDK_KEY expect=$(expect_direct false)
            body=$(body_v1) ;;
        esac
        "$LOADGEN_BIN" --url "$url" --token "$token" --body "$body" --expect "$expect" \
            --requests "$2" >"$TMP/cg.json" 2>"$TMP/loadgen.err" ||
            die "loadgen failed: $(cat "$TMP/loadgen.err")"
    }
    log "callgrind: starting a proxy under valgrind"
    start_proxy "$TMP/cg-data" "$TMP/proxy-cg.log" valgrind --tool=callgrind --callgrind-out-file="$CG_OUT"
    login
    set_up
    # Past the planner-statistics pass the server makes 5 s after start (retention task), so
    # that it falls into no counted window.
    sleep 8
    for pass in json stream limited v1; do
        cg_calls "$pass" 20 # warm: connections, caches, first-use allocations
        cg_dump
        cg_calls "$pass" "$CG_N1"
        cg_dump
        i1=$CG_LAST
        cg_calls "$pass" "$CG_N2"
        cg_dump
        i2=$CG_LAST
        per=$(((i2 - i1) / (CG_N2 - CG_N1)))
        case $pass in
        json) CG_JSON=$per ;;
        stream) CG_STREAM=$per ;;
        limited) CG_LIMITED=$per ;;
        v1) CG_V1=$per ;;
        esac
        log "callgrind $pass: $i1 instructions for $CG_N1 calls, $i2 for $CG_N2: $per per call"
    done
fi

# ---------------------------------------------------------------- report
ALL=$(printf '%s\n' "${ROWS[@]}" | jq -sc .)
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(cd "$ROOT" && git status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
verdict() { if [ "$1" = 1 ]; then echo met; else echo "**missed**"; fi; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'; }

# Target numbers.
pick() { jq -r --arg u "$1" --argjson s "$2" --argjson c "$3" \
    ".[] | select(.upstream == \$u and .stream == \$s and .c == \$c) | $4" <<<"$ALL"; }
ADD_P50_C1=$(pick fast false 1 '.proxy.p50_us - .direct.p50_us')
ADD_P99_C1=$(pick fast false 1 '.proxy.p99_us - .direct.p99_us')
ADD_P50_C1S=$(pick fast true 1 '.proxy.p50_us - .direct.p50_us')
ADD_P99_C1S=$(pick fast true 1 '.proxy.p99_us - .direct.p99_us')
ADD_P99_SLOW=$(pick slow false 50 '.proxy.p99_us - .direct.p99_us')
ADD_P99_SLOWS=$(pick slow true 50 '.proxy.p99_us - .direct.p99_us')
RPS_C50=$(pick fast false 50 '.proxy.rps')
CPU_C50=$(pick fast false 50 '.proxy.proxy_cpu_ms / .proxy.requests')
CPU_MAX=$(jq -r '[.[] | .proxy.proxy_cpu_ms / .proxy.requests] | max' <<<"$ALL")
# Bytes written per call: instant JSON cells at c=1 and c=50 (empty when not run).
WRITTEN_C1=$(pick fast false 1 '.proxy.written_bytes / .proxy.requests | round')
WRITTEN_C50=$(pick fast false 50 '.proxy.written_bytes / .proxy.requests | round')
WAL_MAX=$(jq -r '[.[] | .proxy.wal_max_bytes] | max' <<<"$ALL")
kb() { if [ -z "$1" ]; then echo "–"; else awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1000 }'; fi; }
thousands() { if [ -z "$1" ]; then echo "–"; else awk -v n="$1" 'BEGIN { printf "%.0fk", n / 1000 }'; fi; }
num_or_null() { if [ -z "$1" ]; then echo null; else echo "$1"; fi; }
jq -n --argjson rps "$(num_or_null "$RPS_C50")" --argjson ij "$(num_or_null "$CG_JSON")" \
    --argjson is "$(num_or_null "$CG_STREAM")" --argjson il "$(num_or_null "$CG_LIMITED")" \
    --argjson iv "$(num_or_null "$CG_V1")" \
    --argjson p50 "$(num_or_null "$ADD_P50_C1")" \
    --argjson p99 "$(num_or_null "$ADD_P99_C1")" --argjson open "$OPEN_BEST" \
    --argjson w1 "$(num_or_null "$WRITTEN_C1")" --argjson w50 "$(num_or_null "$WRITTEN_C50")" \
    --argjson wal "$WAL_MAX" --argjson rs "$START_RSS" --argjson rl "$LOGIN_RSS" \
    --argjson cpu "$(num_or_null "$CPU_C50")" --arg binary "$PROXY_BIN" \
    --arg sha "$BINARY_SHA" '{
    binary: $binary, binary_sha: $sha, rps_c50: $rps, instructions_json: $ij, instructions_stream: $is, instructions_limited: $il,
    instructions_v1: $iv,
    added_p50_c1_ms: (if $p50 == null then null else $p50 / 1000 end),
    added_p99_c1_ms: (if $p99 == null then null else $p99 / 1000 end),
    open_loop_rate: $open, written_bytes_c1: $w1, written_bytes_c50: $w50,
    wal_max_mb: ($wal / 1e6), rss_start_mib: ($rs / 1024), rss_login_mib: ($rl / 1024),
    cpu_ms_c50: $cpu,
    goals: [
      {key:"rps_c50", name:"calls/s, instant JSON, c=50", goal:"≥ 12,000"},
      {key:"instructions_json", name:"instructions per JSON call", goal:"≤ 300k"},
      {key:"instructions_stream", name:"instructions per stream call", goal:"–"},
      {key:"instructions_limited", name:"instructions per JSON call, group with limits", goal:"–"},
      {key:"instructions_v1", name:"instructions per `/v1` call (API key)", goal:"–"},
      {key:"added_p50_c1_ms", name:"added p50 ms, c=1 JSON", goal:"≤ 0.3"},
      {key:"added_p99_c1_ms", name:"added p99 ms, c=1 JSON", goal:"≤ 1"},
      {key:"open_loop_rate", name:"open-loop rate with p99 ≤ 10 ms, /s", goal:"≥ 3,000"},
      {key:"written_bytes_c1", name:"bytes written per call, c=1", goal:"≤ 4,096"},
      {key:"written_bytes_c50", name:"bytes written per call, c=50", goal:"≤ 4,096"},
      {key:"wal_max_mb", name:"largest WAL, MB", goal:"≤ 64"},
      {key:"rss_start_mib", name:"RSS after start-up, MiB", goal:"–"},
      {key:"rss_login_mib", name:"RSS after the first admin login, MiB", goal:"≤ 30"},
      {key:"cpu_ms_c50", name:"proxy CPU ms per call, c=50 JSON", goal:"≤ 0.2"}
    ]}' >"$SUMMARY"

{
    echo "### Results"
    echo
    echo "Machine: $CPUS × $CPU_MODEL, $(uname -sr), load average before / after the run: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Commit $COMMIT$DIRTY. ${DURATION} s per cell and side, in $ROUNDS alternating direct/proxy slices; ${WARMUP} s warm-up."
    if [ $PIN = 1 ]; then
        echo "Proxy pinned to CPU $PROXY_CPU; fake upstreams, load generator and script to CPU $LOAD_CPU."
    else
        echo "**Not pinned** (fewer than 2 CPUs usable): numbers are not comparable to the targets."
    fi
    echo "Upstream: the tests' fake (OpenAI protocol, ${#PROMPT}-character prompt, 33-character answer; a stream is 14 SSE events upstream and 11 to the client)."
    echo "Every proxy call recorded in SQLite (WAL, synchronous=NORMAL, group commit) before it is answered."
    echo
    echo "| upstream | mode | c | direct p50 / p99 ms | direct req/s | proxy p50 / p99 ms | proxy req/s | **added p50 / p99 ms** | proxy CPU ms/call | proxy core: proxy / others | load core: fake+loadgen / others | loadgen µs/req | proxy RSS MiB | records |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    jq -r '.[] | [
        (if .upstream == "fast" then "instant" else "50 ms" end),
        (if .stream then "stream" else "JSON" end),
        .c,
        "\(.direct.p50_us/1000*100|round/100) / \(.direct.p99_us/1000*100|round/100)",
        .direct.rps,
        "\(.proxy.p50_us/1000*100|round/100) / \(.proxy.p99_us/1000*100|round/100)",
        .proxy.rps,
        "**\((.proxy.p50_us - .direct.p50_us)/1000*100|round/100) / \((.proxy.p99_us - .direct.p99_us)/1000*100|round/100)**",
        (.proxy.proxy_cpu_ms / .proxy.requests * 1000 | round / 1000),
        "\(.proxy.proxy_cpu_ms / (.proxy.seconds * 10) | round) % / \((.proxy.core0_ms - .proxy.proxy_cpu_ms) / (.proxy.seconds * 10) | if . < 0 then 0 else round end) %",
        "\((.proxy.fake_cpu_ms + .proxy.cpu_ms) / (.proxy.seconds * 10) | round) % / \((.proxy.core1_ms - .proxy.fake_cpu_ms - .proxy.cpu_ms) / (.proxy.seconds * 10) | if . < 0 then 0 else round end) %",
        .proxy.cpu_us_per_req,
        (.proxy.proxy_rss_kib / 1024 * 10 | round / 10),
        (if .records == .expected then "\(.records) ✓" else "\(.records) ≠ \(.expected) ✗" end)
      ] | "| " + (map(tostring) | join(" | ")) + " |"' <<<"$ALL"
    echo
    echo "Open loop (instant upstream, JSON, $OPEN_SECS s per rate, up to $OPEN_CONNS connections; latency from each request's due time):"
    echo
    echo "| rate /s | answered /s | p50 ms | p99 ms | max ms | errors |"
    echo "|--:|--:|--:|--:|--:|--:|"
    printf '%s\n' "${OPEN_ROWS[@]}" | jq -r '"| \(.rate) | \(.rps) | \(.p50_us/10|round/100) | \(.p99_us/10|round/100) | \(.max_us/10|round/100) | \(.errors) |"'
    echo
    echo "Proxy memory: $(mib "$START_RSS") MiB right after start-up, $(mib "$LOGIN_RSS") MiB after the first admin login, $(mib "$IDLE_RSS") MiB idle after the admin set-up, $(mib "$PEAK_RSS") MiB peak (VmHWM), $(mib "$AFTER_RSS") MiB idle after the run."
    echo "Call records: $TOTAL_RECORDS in the database ($SUCCESS_RECORDS success, $STREAM_RECORDS streamed) for $EXPECTED_RECORDS proxy requests (warm-up included)$( [ "$TOTAL_RECORDS" = "$EXPECTED_RECORDS" ] && [ $RECORD_CHECKS_OK = 1 ] && echo ': equal after every cell.' || echo ': **MISMATCH**.')"
    echo
    echo "| target | measured | |"
    echo "|---|---|---|"
    echo "| added latency c=1 p50 ≤ 0.3 ms | $(ms "$ADD_P50_C1") ms JSON, $(ms "$ADD_P50_C1S") ms stream | $(verdict "$(le "$ADD_P50_C1" 300)") / $(verdict "$(le "$ADD_P50_C1S" 300)") |"
    echo "| added latency c=1 p99 ≤ 1 ms | $(ms "$ADD_P99_C1") ms JSON, $(ms "$ADD_P99_C1S") ms stream | $(verdict "$(le "$ADD_P99_C1" 1000)") / $(verdict "$(le "$ADD_P99_C1S" 1000)") |"
    echo "| 50 ms upstream, c=50: added p99 ≤ 2 ms | $(ms "$ADD_P99_SLOW") ms JSON, $(ms "$ADD_P99_SLOWS") ms stream | $(verdict "$(le "$ADD_P99_SLOW" 2000)") / $(verdict "$(le "$ADD_P99_SLOWS" 2000)") |"
    echo "| proxy CPU ≤ 0.2 ms per call | $(printf '%.3f' "$CPU_C50") ms at c=50 JSON; worst cell $(printf '%.3f' "$CPU_MAX") ms | $(verdict "$(le "$CPU_C50" 0.2)") / $(verdict "$(le "$CPU_MAX" 0.2)") |"
    echo "| RSS ≤ 30 MiB after the first admin login | $(mib "$LOGIN_RSS") MiB | $(verdict "$(le "$LOGIN_RSS" 30720)") |"
    echo "| instant upstream, c=50, JSON: ≥ 12,000 calls/s | $RPS_C50 /s | $(verdict "$(le 12000 "$RPS_C50")") |"
    echo "| open loop: ≥ 3,000 requests/s with p99 ≤ 10 ms | $OPEN_BEST /s | $(verdict "$(le 3000 "$OPEN_BEST")") |"
    [ -n "$CG_JSON" ] && echo "| instructions per call ≤ 300k (callgrind, sequential) | $(thousands "$CG_JSON") JSON, $(thousands "$CG_STREAM") stream, $(thousands "$CG_LIMITED") JSON of a group with limits, $(thousands "$CG_V1") \`/v1\` with an API key | $(verdict "$(le "$CG_JSON" 300000)") / $(verdict "$(le "$CG_STREAM" 300000)") / $(verdict "$(le "$CG_LIMITED" 300000)") / $(verdict "$(le "$CG_V1" 300000)") |"
    echo "| bytes written per call ≤ 4 KB | $(kb "$WRITTEN_C1") at c=1, $(kb "$WRITTEN_C50") at c=50 | $(verdict "$(le "${WRITTEN_C1:-0}" 4096)") / $(verdict "$(le "${WRITTEN_C50:-0}" 4096)") |"
    echo "| WAL ≤ 64 MB | $(kb "$WAL_MAX") largest during the closed-loop cells, $(kb "$WAL_AFTER") after them | $(verdict "$(le "$WAL_MAX" 64000000)") |"
    echo "| RSS ≤ 80 MiB under load | $(mib "$PEAK_RSS") MiB peak | $(verdict "$(le "$PEAK_RSS" 81920)") |"
    echo "| records = requests | $TOTAL_RECORDS / $EXPECTED_RECORDS | $(verdict "$([ "$TOTAL_RECORDS" = "$EXPECTED_RECORDS" ] && [ $RECORD_CHECKS_OK = 1 ] && echo 1 || echo 0)") |"
    echo
    echo "\"Added\" is proxy minus direct for the same upstream, concurrency and mode; the two sides ran in alternating slices."
    echo "Core columns: CPU time during the proxy run as a share of one core; \"others\" is everything else the kernel ran on that core (other users' processes, steal). A load core well below 100 % means the load side was not the limit."
    [ -n "${PROXY_ENV:-}" ] && echo "Proxy started with extra environment: \`${PROXY_ENV}\`."
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
printf '%s\n' "$ALL" >"${OUT%.md}.json"
cat "$OUT"
[ "$TOTAL_RECORDS" = "$EXPECTED_RECORDS" ] && [ $RECORD_CHECKS_OK = 1 ] || exit 1
