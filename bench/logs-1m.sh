#!/usr/bin/env bash
# Benchmark (not a test): call-log search and statistics on a SQLite database holding
# 1,000,000 call records. Seeds the records with SQL (90 days, 5 configs, 20 groups,
# 200 activation codes, 2% errors), fills the hourly aggregates the same way the server
# keeps them, starts the release server on it and times each query several times.
# Usage: bash bench/logs-1m.sh [ROWS]        Output: a markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${1:-1000000}
RUNS=5
PORT=${PORT:-18651}
WORK=$(mktemp -d /tmp/llm-proxy-logs-bench.XXXXXX)
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3; }
cargo build --release -q -p llm-proxy
BIN=target/release/llm-proxy
export LLM_PROXY_ADMIN_PASSWORD=Bench-Passw0rd LLM_PROXY_LOG=warn LLM_PROXY_LOG_RETENTION_DAYS=0
"$BIN" --config "$WORK/config.toml" migrate >/dev/null

echo "seeding $ROWS records…" >&2
seed_start=$(date +%s)
sqlite3 "$WORK/data/llm-proxy.db" <<SQL
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
echo "seeded in $(( $(date +%s) - seed_start )) s ($(du -h "$WORK/data/llm-proxy.db" | cut -f1))" >&2

"$BIN" --config "$WORK/config.toml" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$LLM_PROXY_ADMIN_PASSWORD\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["data"]["token"])')

month_ago=$(date -u -d '30 days ago' +%F)
week_ago=$(date -u -d '7 days ago' +%F)
today=$(date -u +%F)
queries=(
  "logs|/api/admin/llm/logs"
  "logs|/api/admin/llm/logs?config_id=3"
  "logs|/api/admin/llm/logs?status=error"
  "logs|/api/admin/llm/logs?group_id=7&status=success"
  "logs|/api/admin/llm/logs?start_date=$week_ago&end_date=$today"
  "logs|/api/admin/llm/logs?config_id=2&start_date=$month_ago&end_date=$today&status=error"
  "logs|/api/admin/llm/logs?activation_code=CODE17"
  "logs|/api/admin/llm/logs?page=500&page_size=100"
  "logs|/api/admin/llm/logs?q=%E7%AC%AC99999%E4%B8%AA"
  "stats|/api/admin/llm/stats"
  "stats|/api/admin/llm/stats?start_date=$(date -u -d '90 days ago' +%F)&end_date=$today"
  "stats|/api/admin/llm/stats?config_id=3&group_id=3"
)
echo "| query | median ms | max ms |"
echo "| --- | ---: | ---: |"
for entry in "${queries[@]}"; do
  path=${entry#*|}
  times=()
  for _ in $(seq $RUNS); do
    times+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$path")")
  done
  read -r median max < <(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f\n", a[int((NR+1)/2)]*1000, a[NR]*1000}')
  echo "| \`${path#/api/admin/llm/}\` | $median | $max |"
done
