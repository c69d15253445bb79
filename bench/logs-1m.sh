#!/usr/bin/env bash
# Benchmark (not a test): call-log search and statistics on a database holding 1,000,000
# call records, on SQLite and (with PG_URL) on PostgreSQL. Seeds the records with SQL
# (90 days, 5 configs, 20 groups, 200 activation codes, 2% errors), fills the hourly
# aggregates the same way the server keeps them, then lets the server's own migration index
# the records' text (the backfill an upgrade runs; its time is printed), starts the release
# server on the database and times each query several times over HTTP.
#
# Usage: bash bench/logs-1m.sh [ROWS]        Output: one markdown table per database on stdout.
# Environment: PG_URL=postgres://… (a server where this may create a database; e.g.
#   PG_URL=$(PG_TEST_PORT=55452 PG_TEST_DIR=/tmp/pg-bench bash scripts/start-postgres.sh)),
#   DATABASES ("sqlite postgres" when PG_URL is set, else "sqlite"), BIN (a server binary to
#   use instead of building target/release/llm-proxy: e.g. an older build, for "before").
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${1:-1000000}
RUNS=5
PORT=${PORT:-18651}
WORK=$(mktemp -d /tmp/llm-proxy-logs-bench.XXXXXX)
PG_DB=llmproxy_bench_$$
cleanup() {
  # Not `kill 0` when no server runs: that signals this script's whole process group.
  if [ -n "${SERVER:-}" ]; then
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  fi
  [ -n "${PG_URL:-}" ] && psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

DATABASES=${DATABASES:-$([ -n "${PG_URL:-}" ] && echo "sqlite postgres" || echo sqlite)}
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3; }
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p llm-proxy
  BIN=target/release/llm-proxy
fi
export LLM_PROXY_ADMIN_PASSWORD=Bench-Passw0rd LLM_PROXY_LOG=warn LLM_PROXY_LOG_RETENTION_DAYS=0
export LLM_PROXY_JWT_SECRET=bench-jwt-secret-0123456789-abcdefghijkl
export ENCRYPTION_SECRET_KEY=0123456789abcdef0123456789abcdef

# The text search's migrations, undone so that they run again over the seeded records (000045
# creates and fills the search, 000049 and 000057 rebuild SQLite's index in its present shape,
# 000051 marks it complete). Older binaries have none or some of them (IF EXISTS), and then
# fewer are pending.
SEARCH_MIGRATIONS="'m20261130_000045_call_log_search', 'm20261130_000049_call_log_search_without_sizes',
  'm20261130_000051_call_log_search_in_batches', 'm20261201_000057_call_log_search_without_positions'"
UNDO_SQLITE="DROP TRIGGER IF EXISTS llm_call_logs_unindex; DROP TRIGGER IF EXISTS llm_call_log_texts_index;
  DROP TABLE IF EXISTS llm_call_log_search_progress;
  DROP TABLE IF EXISTS llm_call_log_search; DROP TABLE IF EXISTS llm_call_log_texts;
  DELETE FROM seaql_migrations WHERE version IN ($SEARCH_MIGRATIONS);"
UNDO_POSTGRES="DROP TABLE IF EXISTS llm_call_log_texts;
  DELETE FROM seaql_migrations WHERE version IN ($SEARCH_MIGRATIONS);"

seed_sqlite() {
  local db=$WORK/data/llm-proxy.db
  sqlite3 "$db" "$UNDO_SQLITE"
  sqlite3 "$db" <<SQL
PRAGMA journal_mode=WAL;
-- Configs and groups appear as ids only (the sqlite3 shell does not enforce foreign keys):
-- the log keeps its own snapshot of names.
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO llm_call_logs (config_id, group_id, activation_code, config_name, provider, model,
  request_messages, request_params, response_content, status, error_code, tokens_used,
  prompt_tokens, completion_tokens, cost, retry_count, is_stream, call_time, duration_ms)
SELECT 1 + i % 5, 1 + i % 20, 'CODE' || (i % 200), '配置' || (1 + i % 5), 'openai', 'gpt-4o-mini',
  json_array(json_object('role', 'system', 'content', '你是一个乐于助人的助手。'),
             json_object('role', 'user', 'content', '请帮我回复客户的第' || i || '个问题：今天的订单什么时候发货？')),
  json_object('max_tokens', 2000, 'temperature', 0.7),
  '您好！您的订单预计今天下午发货，物流单号会通过短信发送给您。第' || i || '号',
  CASE WHEN i % 50 = 0 THEN 'error' ELSE 'success' END,
  CASE WHEN i % 50 = 0 THEN 'UPSTREAM_ERROR' END,
  150, 100, 50, 0.0003, 0, i % 2,
  strftime('%Y-%m-%dT%H:%M:%S', 'now', '-90 days', '+' || (i * 7776000 / $ROWS) || ' seconds')
    || '.' || printf('%03d', i % 1000) || '+00:00',
  800 + i % 400
FROM n;
INSERT INTO call_stats_hourly (hour, day, hour_of_day, config_id, group_id, config_name, calls,
  success_calls, prompt_tokens, completion_tokens, cost, duration_ms_sum)
SELECT strftime('%Y-%m-%d %H', call_time, '+8 hours'), strftime('%Y-%m-%d', call_time, '+8 hours'),
  CAST(strftime('%H', call_time, '+8 hours') AS INTEGER), config_id, group_id, max(config_name),
  count(*), sum(status = 'success'), sum(prompt_tokens), sum(completion_tokens), sum(cost), sum(duration_ms)
FROM llm_call_logs GROUP BY 1, 2, 3, 4, 5;
COMMIT;
SQL
}

seed_postgres() {
  local url=$1
  psql -q -v ON_ERROR_STOP=1 "$url" -c "$UNDO_POSTGRES" >/dev/null
  psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null <<SQL
-- Configs and groups appear as ids only, as on SQLite: foreign-key triggers are off for
-- this session (a superuser's bench database).
SET session_replication_role = replica;
BEGIN;
INSERT INTO llm_call_logs (config_id, group_id, activation_code, config_name, provider, model,
  request_messages, request_params, response_content, status, error_code, tokens_used,
  prompt_tokens, completion_tokens, cost, retry_count, is_stream, call_time, duration_ms)
SELECT 1 + i % 5, 1 + i % 20, 'CODE' || (i % 200), '配置' || (1 + i % 5), 'openai', 'gpt-4o-mini',
  jsonb_build_array(jsonb_build_object('role', 'system', 'content', '你是一个乐于助人的助手。'),
             jsonb_build_object('role', 'user', 'content', '请帮我回复客户的第' || i || '个问题：今天的订单什么时候发货？')),
  jsonb_build_object('max_tokens', 2000, 'temperature', 0.7),
  '您好！您的订单预计今天下午发货，物流单号会通过短信发送给您。第' || i || '号',
  CASE WHEN i % 50 = 0 THEN 'error' ELSE 'success' END,
  CASE WHEN i % 50 = 0 THEN 'UPSTREAM_ERROR' END,
  150, 100, 50, 0.0003, 0, i % 2 = 1,
  date_trunc('second', now()) - interval '90 days' + (i::bigint * 7776000 / $ROWS) * interval '1 second'
    + (i % 1000) * interval '1 millisecond',
  800 + i % 400
FROM generate_series(1, $ROWS) AS i;
INSERT INTO call_stats_hourly (hour, day, hour_of_day, config_id, group_id, config_name, calls,
  success_calls, prompt_tokens, completion_tokens, cost, duration_ms_sum)
SELECT to_char(call_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24'),
  to_char(call_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'),
  extract(hour FROM call_time AT TIME ZONE 'Asia/Shanghai')::int, config_id, group_id,
  max(config_name), count(*), sum((status = 'success')::int), sum(prompt_tokens),
  sum(completion_tokens), sum(cost), sum(duration_ms)
FROM llm_call_logs GROUP BY 1, 2, 3, 4, 5;
COMMIT;
SQL
}

run_database() {
  local kind=$1 url_args=()
  rm -rf "$WORK/data" && mkdir -p "$WORK/data"
  if [ "$kind" = postgres ]; then
    psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB" >/dev/null
    url_args=(--database-url "${PG_URL%/*}/$PG_DB")
  fi
  "$BIN" --config "$WORK/config.toml" --data-dir "$WORK/data" "${url_args[@]}" migrate >/dev/null

  echo "[$kind] seeding $ROWS records…" >&2
  local started=$(date +%s)
  if [ "$kind" = postgres ]; then seed_postgres "${PG_URL%/*}/$PG_DB"; else seed_sqlite; fi
  echo "[$kind] seeded in $(( $(date +%s) - started )) s" >&2
  started=$(date +%s)
  "$BIN" --config "$WORK/config.toml" --data-dir "$WORK/data" "${url_args[@]}" migrate >/dev/null
  echo "[$kind] text-search migration (backfill and index) took $(( $(date +%s) - started )) s" >&2
  if [ "$kind" = postgres ]; then
    # What autovacuum does on a live database soon after a bulk load (statistics, and the
    # visibility map that index-only scans need).
    psql -q "${PG_URL%/*}/$PG_DB" -c "VACUUM ANALYZE" >/dev/null
    echo "[$kind] size: $(psql -Atq "${PG_URL%/*}/$PG_DB" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")" >&2
  else
    echo "[$kind] size: $(du -h "$WORK/data/llm-proxy.db" | cut -f1)" >&2
  fi

  "$BIN" --config "$WORK/config.toml" --data-dir "$WORK/data" "${url_args[@]}" \
    --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.2; done
  # The server refreshes SQLite's planner statistics (PRAGMA optimize) 5 s after it starts,
  # as it then does every hour: time the queries as a running server answers them.
  sleep 6
  local token
  token=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$LLM_PROXY_ADMIN_PASSWORD\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["data"]["token"])')

  local month_ago week_ago today
  month_ago=$(date -u -d '30 days ago' +%F)
  week_ago=$(date -u -d '7 days ago' +%F)
  today=$(date -u +%F)
  # q values: 第99999个 (one record), 订单什么 (in every record), 发货 (2 characters: the newest
  # 100,000 records are scanned), 号 (1 character).
  local queries=(
    "/api/admin/llm/logs"
    "/api/admin/llm/logs?config_id=3"
    "/api/admin/llm/logs?status=error"
    "/api/admin/llm/logs?group_id=7&status=success"
    "/api/admin/llm/logs?group_id=7&status=error"
    "/api/admin/llm/logs?start_date=$week_ago&end_date=$today"
    "/api/admin/llm/logs?config_id=2&start_date=$month_ago&end_date=$today&status=error"
    "/api/admin/llm/logs?activation_code=CODE17"
    "/api/admin/llm/logs?page=500&page_size=100"
    "/api/admin/llm/logs?q=%E7%AC%AC99999%E4%B8%AA"
    "/api/admin/llm/logs?q=%E7%AC%AC99999%E4%B8%AA&group_id=20&status=success"
    "/api/admin/llm/logs?q=%E8%AE%A2%E5%8D%95%E4%BB%80%E4%B9%88"
    "/api/admin/llm/logs?q=%E5%8F%91%E8%B4%A7"
    "/api/admin/llm/logs?q=%E5%8F%B7&config_id=1"
    "/api/admin/llm/logs?summary=true&group_id=7&start_date=$month_ago&end_date=$today"
    "/api/admin/llm/stats"
    "/api/admin/llm/stats?start_date=$(date -u -d '90 days ago' +%F)&end_date=$today"
    "/api/admin/llm/stats?config_id=3&group_id=3"
  )
  echo
  echo "**$kind**, $ROWS records"
  echo
  echo "| query | total | median ms | max ms |"
  echo "| --- | ---: | ---: | ---: |"
  local path times total median max
  for path in "${queries[@]}"; do
    times=()
    for _ in $(seq $RUNS); do
      times+=("$(curl -sf -o "$WORK/answer.json" -w '%{time_total}' -H "authorization: Bearer $token" "http://127.0.0.1:$PORT$path")")
    done
    total=$(python3 -c 'import sys,json;d=json.load(open(sys.argv[1]));print(d.get("total", "–"))' "$WORK/answer.json")
    read -r median max < <(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f\n", a[int((NR+1)/2)]*1000, a[NR]*1000}')
    echo "| \`${path#/api/admin/llm/}\` | $total | $median | $max |"
  done
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=
}

for kind in $DATABASES; do
  run_database "$kind"
done
