#!/usr/bin/env bash
# Fault soak: the proxy under mixed JSON / streamed load against an upstream that misbehaves
# on purpose, then its books checked. Loopback only, bounded in time and in requests.
#
#   bash bench/soak.sh
#
# Builds (debug, unless PROXY_BIN is given) the server and the `soak_upstream` example (the
# tests' fake upstream cycling through hangs, connection resets before and mid-stream,
# malformed 200 bodies, 429 storms, 5xx, in-band errors, stalls and slow streams), starts the
# proxy on a fresh temp data folder with a token-limited group (so every call reserves
# tokens), warms up, and drives it with bench/soak.py: JSON calls, streams read to the end,
# streams the client resets after the first event, and calls the client drops before any
# answer. Then it waits for the proxy to settle and checks:
#   - call records (SQLite) == requests delivered;
#   - no token reservation left (`quota_reservations` empty, `group_usage.reserved_tokens` 0);
#   - open fds back to at most the warm figure + FD_SLACK (pooled connections);
#   - RSS after at most RSS_GROWTH_MIB above the warm figure.
# Prints the figures (RSS and fds from /proc/PID before / after) and exits non-zero when an
# invariant breaks.
#
# Knobs: SECONDS_LOAD (60), MAX_REQUESTS (3000), CONCURRENCY (8), FD_SLACK (16),
# RSS_GROWTH_MIB (64), PROXY_BIN, NO_BUILD=1, KEEP=1 (keep the temp folder).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_LOAD=${SECONDS_LOAD:-60}
MAX_REQUESTS=${MAX_REQUESTS:-3000}
CONCURRENCY=${CONCURRENCY:-8}
FD_SLACK=${FD_SLACK:-16}
RSS_GROWTH_MIB=${RSS_GROWTH_MIB:-64}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
ADMIN_PASSWORD='Soak-Admin-Passw0rd!'

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'soak: %s\n' "$*" >&2; exit 1; }

for tool in curl jq sqlite3 python3; do
    command -v "$tool" >/dev/null 2>&1 && continue
    log "installing $tool"
    apt-get install -y -qq "$tool" >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null && apt-get install -y -qq "$tool" >/dev/null; }
done

if [ "${NO_BUILD:-0}" != 1 ]; then
    log "cargo build (llm-proxy, example soak_upstream)"
    (cd "$ROOT" && cargo build -p llm-proxy --bin llm-proxy --example soak_upstream)
fi
PROXY_BIN=${PROXY_BIN:-$TARGET_DIR/debug/llm-proxy}
FAKE_BIN=$TARGET_DIR/debug/examples/soak_upstream
for bin in "$PROXY_BIN" "$FAKE_BIN"; do [ -x "$bin" ] || die "missing $bin"; done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/llm-proxy-soak.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "${KEEP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap "exit 130" INT TERM

"$FAKE_BIN" >"$TMP/fake.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do [ -s "$TMP/fake.out" ] && break; sleep 0.05; done
read -r FAKE_URL FAKE_KEY <"$TMP/fake.out" || die "fake upstream did not start: $(cat "$TMP/fake.out")"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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
    "$PROXY_BIN" --config "$TMP/config.toml" serve >"$TMP/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
for _ in $(seq 600); do
    curl -fsS "$BASE/api/health" >/dev/null 2>&1 && break
    kill -0 "$PROXY_PID" 2>/dev/null || die "proxy exited: $(cat "$TMP/proxy.log")"
    sleep 0.1
done
DB=$DATA/llm-proxy.db
[ -f "$DB" ] || die "no SQLite database at $DB"

api() { # method path token json -> data
    local answer
    answer=$(curl -sS -X "$1" "$BASE$2" -H 'content-type: application/json' \
        ${3:+-H "authorization: Bearer $3"} ${4:+--data "$4"})
    [ "$(jq -r .success <<<"$answer")" = true ] || die "$1 $2 failed: $answer"
    jq -c .data <<<"$answer"
}
ADMIN=$(api POST /api/auth/login "" "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .token)
# One retry and a 3 s timeout: hangs and stalls end quickly, retries are exercised.
CONFIG=$(api POST /api/admin/llm/configs "$ADMIN" "$(jq -nc --arg url "$FAKE_URL" --arg key "$FAKE_KEY" \
    '{name:"soak", provider:"openai", api_url:$url, api_key:$key, model:"gpt-4o-mini",
      max_tokens:256, max_retries:1, timeout_seconds:3}')" | jq -r .id)
# Token limits far above what the soak uses: every call reserves and settles tokens.
GROUP=$(api POST /api/admin/groups "$ADMIN" \
    '{"name":"soak","daily_token_limit":1000000000,"monthly_token_limit":1000000000}' | jq -r .id)
CODE=$(api POST /api/admin/activation-codes "$ADMIN" "{\"group_id\":$GROUP}" | jq -r .code)
CLIENT=$(api POST /api/auth/activate "" "{\"activation_code\":\"$CODE\"}" | jq -r .token)

kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$PROXY_PID/status"; }
fds() { ls "/proc/$PROXY_PID/fd" | wc -l; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
sql() { sqlite3 "$DB" "$1"; }

log "warm-up (5 s)"
python3 "$ROOT/bench/soak.py" "$BASE/api/llm/call" "$CLIENT" "$CONFIG" \
    --seconds 5 --concurrency "$CONCURRENCY" --max-requests 200 >"$TMP/warmup.json"
sleep 8
RSS_BEFORE=$(kib) FDS_BEFORE=$(fds) RECORDS_BEFORE=$(sql "SELECT count(*) FROM llm_call_logs")
log "warm: RSS $(mib "$RSS_BEFORE") MiB, $FDS_BEFORE fds, $RECORDS_BEFORE records"

log "soak: ${SECONDS_LOAD}s or $MAX_REQUESTS requests, concurrency $CONCURRENCY"
RSS_PEAK=$RSS_BEFORE
python3 "$ROOT/bench/soak.py" "$BASE/api/llm/call" "$CLIENT" "$CONFIG" --seconds "$SECONDS_LOAD" \
    --concurrency "$CONCURRENCY" --max-requests "$MAX_REQUESTS" >"$TMP/soak.json" &
DRIVER=$!
while kill -0 "$DRIVER" 2>/dev/null; do
    rss=$(kib)
    [ "$rss" -gt "$RSS_PEAK" ] && RSS_PEAK=$rss
    sleep 0.5
done
wait "$DRIVER" || die "driver failed"
kill -0 "$PROXY_PID" 2>/dev/null || die "proxy died: $(tail -n 20 "$TMP/proxy.log")"

WARM=$(jq -r .requests "$TMP/warmup.json")
SENT=$(jq -r .requests "$TMP/soak.json")
EXPECTED=$((WARM + SENT))
# In-flight calls end within their timeouts (2 attempts x 3 s) and records are written in
# batches: wait until the count is right or stops moving.
records=0
for _ in $(seq 60); do
    records=$(sql "SELECT count(*) FROM llm_call_logs")
    [ "$records" -ge "$EXPECTED" ] && break
    sleep 0.5
done
sleep 3
records=$(sql "SELECT count(*) FROM llm_call_logs")
RSS_AFTER=$(kib) FDS_AFTER=$(fds)
RESERVATIONS=$(sql "SELECT count(*) FROM quota_reservations")
RESERVED=$(sql "SELECT coalesce(sum(reserved_tokens), 0) FROM group_usage")
USED=$(sql "SELECT coalesce(sum(used_tokens), 0) FROM group_usage WHERE period = 'day'")
BY_STATUS=$(sql "SELECT status || ' ' || count(*) FROM llm_call_logs GROUP BY status ORDER BY count(*) DESC" | paste -sd, - | sed 's/,/, /g')

ok=1
check() { # description condition
    if eval "$2"; then printf '  ok    %s\n' "$1"; else printf '  FAIL  %s\n' "$1"; ok=0; fi
}
printf '\nFault soak: %s s, %s requests delivered (+%s warm-up), concurrency %s\n' \
    "$(jq -r .seconds "$TMP/soak.json")" "$SENT" "$WARM" "$CONCURRENCY"
printf 'client modes: %s\n' "$(jq -c .modes "$TMP/soak.json")"
printf 'client endings: %s\n' "$(jq -c .endings "$TMP/soak.json")"
printf 'HTTP statuses: %s\n' "$(jq -c .statuses "$TMP/soak.json")"
printf 'records by status: %s\n' "$BY_STATUS"
printf 'RSS: %s MiB warm, %s MiB peak, %s MiB after\n' "$(mib "$RSS_BEFORE")" "$(mib "$RSS_PEAK")" "$(mib "$RSS_AFTER")"
printf 'open fds: %s warm, %s after\n' "$FDS_BEFORE" "$FDS_AFTER"
printf 'tokens used today: %s\n' "$USED"
check "records == requests ($records == $EXPECTED)" '[ "$records" = "$EXPECTED" ]'
check "no reservation left ($RESERVATIONS rows, $RESERVED tokens)" '[ "$RESERVATIONS" = 0 ] && [ "$RESERVED" = 0 ]'
check "fds back (after $FDS_AFTER <= warm $FDS_BEFORE + $FD_SLACK)" '[ "$FDS_AFTER" -le $((FDS_BEFORE + FD_SLACK)) ]'
check "RSS bounded (after $(mib "$RSS_AFTER") <= warm $(mib "$RSS_BEFORE") + $RSS_GROWTH_MIB MiB)" \
    '[ "$RSS_AFTER" -le $((RSS_BEFORE + RSS_GROWTH_MIB * 1024)) ]'
check "proxy log has no panic" '! grep -q "panicked" "$TMP/proxy.log"'
[ $ok = 1 ] || { log "soak FAILED (proxy log: $TMP/proxy.log; KEEP=1 keeps it)"; exit 1; }
log "soak passed"
