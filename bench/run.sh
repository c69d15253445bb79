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
# at concurrency 50. Prints a markdown report and writes it to bench/results.md.
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
# MALLOC_MMAP_THRESHOLD_=131072).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-5}
CONCURRENCY=${CONCURRENCY:-"1 10 50"}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=${OUT:-$ROOT/bench/results.md}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
ADMIN_PASSWORD='Bench-Admin-Passw0rd!'
PROMPT='你好，请用一句话介绍一下你自己。'

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
FAKE_BIN=$TARGET_DIR/release/examples/fake_upstream
LOADGEN_BIN=$TARGET_DIR/release/examples/loadgen
for bin in "$PROXY_BIN" "$FAKE_BIN" "$LOADGEN_BIN"; do
    [ -x "$bin" ] || die "missing $bin (build failed?)"
done

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

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
DATA=$TMP/data
env -u LLM_PROXY_DATABASE_URL -u LLM_PROXY_JWT_SECRET -u ENCRYPTION_SECRET_KEY \
    LLM_PROXY_BIND=127.0.0.1:$PORT \
    LLM_PROXY_DATA_DIR="$DATA" \
    LLM_PROXY_ADMIN_USERNAME=admin \
    LLM_PROXY_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    LLM_PROXY_LOG=warn \
    LLM_PROXY_DEFAULT_REQUESTS_PER_MINUTE=100000000 \
    LLM_PROXY_OPEN_BROWSER=false \
    ${PROXY_ENV:-} \
    "${PROXY_PIN[@]}" "$PROXY_BIN" --config "$TMP/config.toml" serve >"$TMP/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
for _ in $(seq 600); do
    curl -fsS "$BASE/api/health" >/dev/null 2>&1 && break
    kill -0 "$PROXY_PID" 2>/dev/null || die "proxy exited: $(cat "$TMP/proxy.log")"
    sleep 0.1
done
curl -fsS "$BASE/api/health" >/dev/null || die "proxy did not start: $(cat "$TMP/proxy.log")"
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
ADMIN=$(api POST /api/auth/login "" "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .token)
config() { # name url -> id
    api POST /api/admin/llm/configs "$ADMIN" "$(jq -nc --arg name "$1" --arg url "$2" --arg key "$KEY" \
        '{name:$name, provider:"openai", api_url:$url, api_key:$key, model:"gpt-4o-mini",
          max_tokens:256, max_retries:0, timeout_seconds:30}')" | jq -r .id
}
FAST_CONFIG=$(config bench-instant "$FAST_URL")
SLOW_CONFIG=$(config bench-50ms "$SLOW_URL")
GROUP=$(api POST /api/admin/groups "$ADMIN" '{"name":"bench"}' | jq -r .id)
CODE=$(api POST /api/admin/activation-codes "$ADMIN" "{\"group_id\":$GROUP}" | jq -r .code)
CLIENT=$(api POST /api/auth/activate "" "{\"activation_code\":\"$CODE\"}" | jq -r .token)

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
records() { sqlite3 "$DB" "SELECT count(*) FROM llm_call_logs${1:+ WHERE $1};"; }

body_direct() { jq -nc --arg p "$PROMPT" --argjson s "$1" \
    '{model:"gpt-4o-mini", messages:[{role:"user", content:$p}], max_completion_tokens:256, stream:$s}'; }
body_proxy() { jq -nc --arg p "$PROMPT" --argjson s "$1" --argjson c "$2" \
    '{config_id:$c, messages:[{role:"user", content:$p}], stream:$s}'; }
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
    local core0 core1
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
        '. + {proxy_cpu_ms:$p, fake_cpu_ms:$f, proxy_rss_kib:$r, core0_ms:$c0, core1_ms:$c1}' "$out")
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

sleep 2
AFTER_RSS=$(kib "$PROXY_PID" VmRSS)
PEAK_RSS=$(kib "$PROXY_PID" VmHWM)
TOTAL_RECORDS=$(records)
SUCCESS_RECORDS=$(records "status = 'success'")
STREAM_RECORDS=$(records "is_stream = 1")

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
    echo "Proxy memory: $(mib "$START_RSS") MiB right after start-up, $(mib "$IDLE_RSS") MiB idle after the admin set-up (one login), $(mib "$PEAK_RSS") MiB peak (VmHWM), $(mib "$AFTER_RSS") MiB idle after the run."
    echo "Call records: $TOTAL_RECORDS in the database ($SUCCESS_RECORDS success, $STREAM_RECORDS streamed) for $EXPECTED_RECORDS proxy requests (warm-up included)$( [ "$TOTAL_RECORDS" = "$EXPECTED_RECORDS" ] && [ $RECORD_CHECKS_OK = 1 ] && echo ': equal after every cell.' || echo ': **MISMATCH**.')"
    echo
    echo "| target | measured | |"
    echo "|---|---|---|"
    echo "| added latency c=1 p50 ≤ 0.3 ms | $(ms "$ADD_P50_C1") ms JSON, $(ms "$ADD_P50_C1S") ms stream | $(verdict "$(le "$ADD_P50_C1" 300)") / $(verdict "$(le "$ADD_P50_C1S" 300)") |"
    echo "| added latency c=1 p99 ≤ 1 ms | $(ms "$ADD_P99_C1") ms JSON, $(ms "$ADD_P99_C1S") ms stream | $(verdict "$(le "$ADD_P99_C1" 1000)") / $(verdict "$(le "$ADD_P99_C1S" 1000)") |"
    echo "| 50 ms upstream, c=50: added p99 ≤ 2 ms | $(ms "$ADD_P99_SLOW") ms JSON, $(ms "$ADD_P99_SLOWS") ms stream | $(verdict "$(le "$ADD_P99_SLOW" 2000)") / $(verdict "$(le "$ADD_P99_SLOWS" 2000)") |"
    echo "| instant upstream, c=50, JSON: ≥ 5,000 calls/s | $RPS_C50 /s | $(verdict "$(le 5000 "$RPS_C50")") |"
    echo "| proxy CPU ≤ 0.2 ms per call | $(printf '%.3f' "$CPU_C50") ms at c=50 JSON; worst cell $(printf '%.3f' "$CPU_MAX") ms | $(verdict "$(le "$CPU_C50" 0.2)") / $(verdict "$(le "$CPU_MAX" 0.2)") |"
    echo "| RSS ≤ 30 MiB idle | $(mib "$IDLE_RSS") MiB | $(verdict "$(le "$IDLE_RSS" 30720)") |"
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
