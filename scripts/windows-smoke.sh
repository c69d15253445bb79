#!/usr/bin/env bash
# CI smoke test of the Windows executable under Wine: what an admin does with the download.
#
#   bash scripts/build-windows.sh && bash scripts/windows-smoke.sh [PATH/TO/llm-proxy.exe]
#
# 1. `--help`, `--version`, `openapi` and every subcommand's `--help` (compared with the Linux
#    binary when one is at hand), run from C:\Windows\System32 and leaving nothing behind;
# 2. first start of a copy in a fresh folder whose path has a space and Chinese characters,
#    launched with the working directory C:\Windows\System32 (as some launchers do), no config,
#    no admin password: config.toml (commented defaults) and data\ must appear beside the .exe
#    and nothing in the working directory; the console shows the admin URL and the generated
#    password in Chinese and English; the default browser is opened on the admin UI (Wine's
#    browser hook is pointed at a recorder); the admin UI, Swagger UI and the API answer;
# 3. the API flow: admin login with the printed password, a provider config pointing at a fake
#    OpenAI upstream on loopback, a group, an activation code, client activation, one call and
#    one streamed call; `healthcheck` and `backup` (online copy) subcommands;
# 4. a second instance on the same port exits 1 with the Chinese "port in use" message naming
#    the port and config.toml; started with a console (as by a double-click; `script` gives Wine
#    a terminal), it keeps the window open until Enter; a fresh copy whose first start hits a
#    busy port gets config.toml to change the port in, and must still hand out its password;
# 5. Ctrl+C (SIGINT, which Wine turns into CTRL_C_EVENT) while a slow streamed call is in flight:
#    the call finishes, the process exits 0, every call record is in the SQLite file;
# 6. second start with `open_browser = false` set in the generated config.toml: no new password,
#    no browser, same password logs in, the call records (>= 3) are listed;
# 7. the console window closed (CTRL_CLOSE_EVENT, delivered as Windows delivers it, by
#    scripts/windows/console-event.c: Wine sends no such event) while a streamed call that
#    cannot finish is in flight: the program shuts down by itself within Windows' 5 s, the call
#    is recorded as interrupted, and its instance row is gone;
# 8. the same folder as a Windows service through Wine's service manager: `service install`
#    (with --bind), `service status`, `service start`, Wine's own `sc query`, login and a call,
#    the log file in data\logs\, `service stop` (graceful, the log says so), `service
#    uninstall`; then `service run` from a console must refuse (it is for the SCM only).
# Idle memory (under Wine) is measured after the first start and after the calls.
#
# Needs: root on Debian 12 (installs wine/mingw through scripts/toolchain/windows.sh), python3, curl.
# Knobs (environment, all optional):
#   SMOKE_WINEPREFIX   Wine prefix used only by this test (default /opt/wine-llm-proxy-smoke)
#   SMOKE_TIMEOUT      seconds to wait for the server to answer (default 120)
#   SMOKE_KEEP=1       keep the temporary folder even on success
#   LINUX_BIN          Linux llm-proxy binary whose --help must match (default: target/debug or
#                      target/release llm-proxy if present; a mismatch then only warns)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EXE_SRC="$(readlink -f "${1:-$ROOT/target/x86_64-pc-windows-gnu/release/llm-proxy.exe}")"
TIMEOUT="${SMOKE_TIMEOUT:-120}"
T0=$(date +%s)

say() { printf '\n==> %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
SERVER_PIDS=()
FAKE_PID=""
SMOKE_ROOT=""
CURRENT_LOG=""
fail() {
  echo >&2
  echo "windows-smoke: FAILED: $*" >&2
  if [ -n "$CURRENT_LOG" ] && [ -f "$CURRENT_LOG" ]; then
    echo "---- last 60 lines of $CURRENT_LOG ----" >&2; tail -n 60 "$CURRENT_LOG" >&2; echo "----" >&2
  fi
  if [ -n "$SMOKE_ROOT" ] && [ -f "$SMOKE_ROOT/logs/fake-upstream.log" ]; then
    echo "---- fake upstream ----" >&2; tail -n 20 "$SMOKE_ROOT/logs/fake-upstream.log" >&2; echo "----" >&2
  fi
  [ -n "$SMOKE_ROOT" ] && echo "windows-smoke: files kept in $SMOKE_ROOT" >&2
  exit 1
}

LATER_FAILURES=()
later_fail() { echo "    FAILED (reported at the end): $*"; LATER_FAILURES+=("$*"); }

cleanup() {
  local rc=$? pid
  for pid in "${SERVER_PIDS[@]}" $FAKE_PID; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  sleep 0.5
  for pid in "${SERVER_PIDS[@]}" $FAKE_PID; do
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  # Leave no service behind in the prefix (a later run would find it installed).
  if [ "${SERVICE_INSTALLED:-0}" = 1 ]; then timeout 60 wine "$EXE" service uninstall >/dev/null 2>&1 || true; fi
  # The prefix is this test's own: wait for Wine's helper processes to end by themselves.
  if [ -n "${WINEPREFIX:-}" ]; then timeout 30 wineserver -w 2>/dev/null || true; fi
  if [ $rc = 0 ] && [ -n "$SMOKE_ROOT" ] && [ "${SMOKE_KEEP:-0}" != 1 ]; then rm -rf "$SMOKE_ROOT"; fi
}
trap cleanup EXIT

[ -f "$EXE_SRC" ] || fail "no $EXE_SRC (run scripts/build-windows.sh first)"

say "toolchain: wine, the bcryptprimitives shim and a Wine prefix of our own"
export WINEPREFIX="${SMOKE_WINEPREFIX:-/opt/wine-llm-proxy-smoke}"
wine_env="$(bash "$ROOT/scripts/toolchain/windows.sh" wine)" || fail "scripts/toolchain/windows.sh wine failed"
eval "$wine_env"
missing=()
for tool in python3 curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export LANG=C.UTF-8 LC_ALL=C.UTF-8   # Wine maps Unix file names to Unicode through the locale
wine --version
ok "WINEPREFIX=$WINEPREFIX"

SMOKE_ROOT="$(mktemp -d /tmp/llm-proxy-smoke.XXXXXX)"
LOGS="$SMOKE_ROOT/logs"
APP_DIR="$SMOKE_ROOT/llm proxy 测试"
EXE="$APP_DIR/llm-proxy.exe"
LAUNCH_CWD="$WINEPREFIX/drive_c/windows/system32"
mkdir -p "$LOGS" "$APP_DIR"
cp "$EXE_SRC" "$EXE"
[ -d "$LAUNCH_CWD" ] || fail "no $LAUNCH_CWD in the Wine prefix"
launch_cwd_before="$(ls -A "$LAUNCH_CWD" | sort)"
ok "app folder: $APP_DIR"
ok "working directory for every start: $LAUNCH_CWD (C:\\Windows\\System32)"

# ---------------------------------------------------------------- helpers
# reported_address LOG: servers here start on port 0, so the system picks a free port and
# nothing can take it in between; the address is read from what the server reports (the
# console banner's admin URL, or the log's `listening addr=` line). Sets BASE and REPORTED_PORT.
reported_address() {
  local log=$1 addr="" deadline=$(( $(date +%s) + TIMEOUT ))
  until addr="$(grep -aoE '(admin UI: +http://|listening addr=(socket://)?)127\.0\.0\.1:[0-9]+' "$log" 2>/dev/null \
      | tail -n1 | grep -oE '127\.0\.0\.1:[0-9]+')"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "no address reported in $log within ${TIMEOUT}s"
    sleep 0.2
  done
  BASE="http://$addr"
  REPORTED_PORT="${addr##*:}"
}
# jget JSON PATH: prints the value at a dotted path (e.g. data.token), fails when missing.
jget() {
  python3 -c '
import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if not isinstance(v, (dict, list)) else json.dumps(v, ensure_ascii=False))
' "$1" "$2" 2>/dev/null || fail "no '$2' in: $1"
}
# api METHOD PATH [JSON] [TOKEN] -> prints the body; fails unless the status is 2xx.
api() {
  local method=$1 path=$2 body=${3:-} token=${4:-} out status args=()
  args=(-sS --max-time 60 -X "$method" -o "$LOGS/api.body" -w '%{http_code}')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  status="$(curl "${args[@]}" "$BASE$path")" || fail "$method $path: curl failed"
  out="$(cat "$LOGS/api.body")"
  [[ "$status" == 2* ]] || fail "$method $path answered HTTP $status: $out"
  printf '%s' "$out"
}
# run_exe NAME [ARGS...]: runs the .exe to completion (cwd System32, stdin closed), output in
# $LOGS/NAME.log; sets RUN_RC.
run_exe() {
  local name=$1; shift
  CURRENT_LOG="$LOGS/$name.log"
  RUN_RC=0
  (cd "$LAUNCH_CWD" && exec timeout 180 wine "$EXE" "$@") </dev/null >"$CURRENT_LOG" 2>&1 || RUN_RC=$?
}
# start_server NAME EXE: starts a server in the background (cwd System32); sets SERVER_PID.
start_server() {
  local name=$1 exe=$2
  CURRENT_LOG="$LOGS/$name.log"
  START_T=$(date +%s.%N)
  # `wine X.exe` execs into the Windows process: $! is the program itself. Wine turns SIGINT
  # into CTRL_C_EVENT, but not when SIGINT is ignored, which is what a plain `&` in a script
  # does to it: job control (set -m) keeps it deliverable.
  set -m
  (cd "$LAUNCH_CWD" && exec wine "$exe") </dev/null >"$CURRENT_LOG" 2>&1 &
  SERVER_PID=$!
  set +m
  SERVER_PIDS+=("$SERVER_PID")
}
wait_ready() {
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until curl -fsS --max-time 5 -o /dev/null "$BASE/api/openapi.json" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited before answering"
    [ "$(date +%s)" -lt "$deadline" ] || fail "no answer from $BASE/api/openapi.json within ${TIMEOUT}s"
    sleep 0.3
  done
  READY_S=$(python3 -c "import time; print(f'{time.time() - $START_T:.1f}')")
}
# start_stream CONFIG_ID TEXT OUT: a client's streamed call in the background, answer in OUT;
# returns once the first chunk arrived. Sets STREAM_CURL.
start_stream() {
  curl -sS -N --max-time 90 -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $CLIENT_TOKEN" \
    --data-binary "{\"config_id\":$1,\"messages\":[{\"role\":\"user\",\"content\":\"$2\"}]}" \
    "$BASE/api/llm/call-stream" >"$3" 2>&1 &
  STREAM_CURL=$!
  for _ in $(seq 1 100); do grep -q '^event: chunk' "$3" 2>/dev/null && break; sleep 0.1; done
  grep -q '^event: chunk' "$3" || fail "the streamed call did not start: $(cat "$3")"
}
# stop_server: Ctrl+C, then wait for a clean exit; sets STOP_RC.
stop_server() {
  local t=0
  kill -INT "$SERVER_PID" 2>/dev/null || fail "server (pid $SERVER_PID) is not running"
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    sleep 0.5; t=$((t + 1))
    [ $t -lt 120 ] || fail "the server did not stop within 60 s of Ctrl+C"
  done
  STOP_RC=0; wait "$SERVER_PID" || STOP_RC=$?
}
mem_of() {  # resident memory of a (Wine) process, from /proc
  awk '/^VmRSS/ {r=$2} /^RssAnon/ {a=$2} END { printf "VmRSS %.1f MiB (private/anonymous %.1f MiB)", r/1024, a/1024 }' "/proc/$1/status"
}
db_count() {  # call records in a SQLite file (read after the server stopped)
  python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from llm_call_logs").fetchone()[0])' "$1" \
    || fail "cannot read $1 with sqlite3"
}
winpath() { winepath -w "$1" 2>/dev/null | tr -d '\r'; }
check_no_escape_codes() {
  if LC_ALL=C grep -q $'\e\[' "$1"; then
    echo "    WARNING: ANSI colour codes in the console output (legacy conhost on Windows 10 shows them as garbage):"
    LC_ALL=C grep -m1 $'\e\[' "$1" | cat -v | cut -c1-120 | sed 's/^/      /'
  fi
}

# ---------------------------------------------------------------- 1. command line
say "command line: --help, --version, openapi, subcommand help"
run_exe help --help
[ $RUN_RC = 0 ] || fail "--help exited with $RUN_RC"
for word in Usage serve healthcheck migrate openapi create-admin backup rotate-key service --config --bind --data-dir; do
  grep -q -- "$word" "$LOGS/help.log" || fail "--help does not mention $word"
done
ok "--help lists every subcommand and option"
run_exe version --version
grep -q '^llm-proxy [0-9]' "$LOGS/version.log" || fail "--version printed: $(cat "$LOGS/version.log")"
ok "--version: $(tr -d '\r' <"$LOGS/version.log")"
run_exe openapi openapi
[ $RUN_RC = 0 ] || fail "openapi exited with $RUN_RC"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["openapi"].startswith("3") and "/api/auth/login" in d["paths"]' \
  "$LOGS/openapi.log" || fail "openapi did not print the OpenAPI spec"
ok "openapi prints the spec"
for sub in serve healthcheck migrate openapi create-admin backup rotate-key service; do
  run_exe "help-$sub" "$sub" --help
  [ $RUN_RC = 0 ] || fail "$sub --help exited with $RUN_RC"
done
run_exe bad-flag --no-such-flag
[ $RUN_RC = 2 ] || fail "an unknown flag should exit 2 (as on Linux), got $RUN_RC"
ok "every subcommand has --help; an unknown flag exits 2"
linux_bin="${LINUX_BIN:-}"
if [ -z "$linux_bin" ]; then
  for candidate in "$ROOT/target/debug/llm-proxy" "$ROOT/target/release/llm-proxy"; do
    [ -x "$candidate" ] && linux_bin="$candidate" && break
  done
fi
if [ -n "$linux_bin" ]; then
  mismatch=0
  for sub in "" serve healthcheck migrate openapi create-admin backup rotate-key service; do
    name="help${sub:+-$sub}"
    # shellcheck disable=SC2086
    "$linux_bin" $sub --help >"$LOGS/linux-$name.log" 2>&1 || true
    if ! diff <(sed 's/llm-proxy\.exe/llm-proxy/g' "$LOGS/$name.log" | tr -d '\r') "$LOGS/linux-$name.log" >"$LOGS/diff-$name.log"; then
      mismatch=1; echo "    --help of '${sub:-llm-proxy}' differs from $linux_bin:"; sed 's/^/      /' "$LOGS/diff-$name.log" | head -20
    fi
  done
  if [ $mismatch = 0 ]; then ok "--help texts match the Linux binary $linux_bin"
  elif [ -n "${LINUX_BIN:-}" ]; then fail "--help differs from the Linux binary"
  else echo "    WARNING: $linux_bin may be stale (set LINUX_BIN to make this an error)"; fi
fi
[ ! -e "$APP_DIR/config.toml" ] && [ ! -e "$APP_DIR/data" ] || fail "--help/openapi created files beside the .exe"

# ---------------------------------------------------------------- fake upstream, fake browser
say "fake OpenAI upstream on loopback; Wine's browser hook pointed at a recorder"
python3 "$ROOT/scripts/windows/fake_upstream.py" >"$LOGS/fake-upstream.out" 2>"$LOGS/fake-upstream.log" &
FAKE_PID=$!
for _ in $(seq 1 50); do [ -s "$LOGS/fake-upstream.out" ] && break; sleep 0.2; done
read -r UPSTREAM_URL UPSTREAM_KEY <"$LOGS/fake-upstream.out" || fail "the fake upstream did not start"
ok "upstream $UPSTREAM_URL"
BROWSER_LOG="$LOGS/browser-opened.txt"
cat >"$LOGS/fake-browser" <<EOF
#!/bin/sh
echo "\$@" >>"$BROWSER_LOG"
EOF
chmod +x "$LOGS/fake-browser"
wine reg add 'HKCU\Software\Wine\WineBrowser' /v Browsers /t REG_SZ /d "$LOGS/fake-browser" /f >/dev/null 2>&1 \
  || fail "cannot set Wine's browser in the registry"
ok "winebrowser -> $LOGS/fake-browser"

# ---------------------------------------------------------------- 2. first start
# Only the port comes from the environment (CI may have something on 8080); no config file,
# no password: the first-run defaults are what is tested.
export LLM_PROXY_BIND="127.0.0.1:0"
unset LLM_PROXY_ADMIN_PASSWORD LLM_PROXY_OPEN_BROWSER LLM_PROXY_DATA_DIR LLM_PROXY_DATABASE_URL

say "first start from $LAUNCH_CWD, on a port the system picks"
start_server first-start "$EXE"
reported_address "$CURRENT_LOG"
PORT=$REPORTED_PORT
# Later starts of this copy (a second instance, the restart) ask for this same port.
export LLM_PROXY_BIND="127.0.0.1:$PORT"
wait_ready
FIRST_READY_S=$READY_S
ok "answering on port $PORT after ${READY_S}s"
LOG="$LOGS/first-start.log"
sleep 1
for line in '已启动 / started' '管理后台 / admin UI:' '接口文档 / Swagger UI:' '数据目录 / data folder:' \
            '初始管理员 / first admin: admin' '初始密码 / password:'; do
  grep -qF "$line" "$LOG" || fail "the console output lacks '$line'"
done
grep -qF "管理后台 / admin UI:   $BASE/admin/" "$LOG" || fail "the admin URL is not $BASE/admin/"
PASSWORD="$(grep -aF '初始密码 / password:' "$LOG" | head -n1 | sed 's/.*password:[[:space:]]*//' | tr -d '\r[:space:]' || true)"
[ ${#PASSWORD} -ge 8 ] || fail "no usable password on the '初始密码 / password:' line"
data_line="$(grep -aF '数据目录 / data folder:' "$LOG" | tr -d '\r' || true)"
[[ "$data_line" == *'llm proxy 测试'* ]] || fail "the data folder is not beside the .exe: $data_line"
ok "console: admin URL, Swagger URL, data folder (${data_line#*: }), first admin and password (${#PASSWORD} chars)"
check_no_escape_codes "$LOG"

for f in config.toml data/llm-proxy.db data/jwt.secret data/encryption.key; do
  [ -s "$APP_DIR/$f" ] || fail "$f was not created beside the .exe"
done
grep -q '^\[server\]' "$APP_DIR/config.toml" && grep -q '^# open_browser' "$APP_DIR/config.toml" \
  || fail "config.toml beside the .exe is not the commented default"
[ "$(ls -A "$LAUNCH_CWD" | sort)" = "$launch_cwd_before" ] || fail "files appeared in the working directory $LAUNCH_CWD: $(comm -13 <(echo "$launch_cwd_before") <(ls -A "$LAUNCH_CWD" | sort) | tr '\n' ' ')"
ok "config.toml (commented defaults) and data\\ (database, jwt.secret, encryption.key) beside the .exe; nothing in the working directory"

for _ in $(seq 1 60); do [ -s "$BROWSER_LOG" ] && break; sleep 0.5; done
[ -s "$BROWSER_LOG" ] || fail "the default browser was not opened (nothing reached Wine's browser hook within 30 s)"
grep -qF "$BASE/admin/" "$BROWSER_LOG" || fail "the browser was opened on '$(cat "$BROWSER_LOG")', not $BASE/admin/"
ok "default browser opened on $(head -n1 "$BROWSER_LOG")"

sleep 5
MEM_IDLE="$(mem_of "$SERVER_PID")"
ok "idle memory after start (under Wine): $MEM_IDLE"

curl -fsS --max-time 10 -o "$LOGS/admin.html" "$BASE/admin/" && grep -qF '管理后台' "$LOGS/admin.html" \
  || fail "/admin/ does not serve the embedded admin UI"
WASM="$(grep -o '/admin/[^"`'"'"' ]*\.wasm' "$LOGS/admin.html" | head -n1 || true)"
[ -n "$WASM" ] || fail "the admin page references no .wasm: $(head -c 300 "$LOGS/admin.html")"
wasm_type="$(curl -fsS --max-time 20 -o "$LOGS/ui.wasm" -w '%{content_type}' "$BASE$WASM")" || fail "$WASM is not served"
[ "$(head -c 4 "$LOGS/ui.wasm" | od -An -tx1 | tr -d ' \n')" = 0061736d ] && [[ "$wasm_type" == application/wasm* ]] \
  || fail "$WASM: not a WebAssembly module served as application/wasm (got $wasm_type)"
curl -fsS --max-time 10 -L -o "$LOGS/swagger.html" "$BASE/swagger" && grep -q 'SwaggerUIBundle' "$LOGS/swagger.html" \
  || fail "/swagger does not serve Swagger UI"
curl -fsS --max-time 10 "$BASE/api/health" >/dev/null || fail "/api/health does not answer"
ok "/admin/ (embedded UI and its $(stat -c %s "$LOGS/ui.wasm")-byte wasm), /swagger (Swagger UI), /api/health answer"

# ---------------------------------------------------------------- 3. API flow
say "API flow: login, config -> fake upstream, group, activation code, client call + streamed call"
ADMIN_TOKEN="$(jget "$(api POST /api/auth/login "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}")" data.token)"
ok "admin login with the printed password"
CONFIG_ID="$(jget "$(api POST /api/admin/llm/configs \
  "{\"name\":\"smoke 测试\",\"provider\":\"openai\",\"api_url\":\"$UPSTREAM_URL\",\"api_key\":\"$UPSTREAM_KEY\",\"model\":\"gpt-4o-mini\"}" \
  "$ADMIN_TOKEN")" data.id)"
SLOW_ID="$(jget "$(api POST /api/admin/llm/configs \
  "{\"name\":\"smoke slow\",\"provider\":\"openai\",\"api_url\":\"$UPSTREAM_URL\",\"api_key\":\"$UPSTREAM_KEY\",\"model\":\"gpt-4o-mini-slow\"}" \
  "$ADMIN_TOKEN")" data.id)"
ENDLESS_ID="$(jget "$(api POST /api/admin/llm/configs \
  "{\"name\":\"smoke endless\",\"provider\":\"openai\",\"api_url\":\"$UPSTREAM_URL\",\"api_key\":\"$UPSTREAM_KEY\",\"model\":\"gpt-4o-mini-endless\"}" \
  "$ADMIN_TOKEN")" data.id)"
GROUP_ID="$(jget "$(api POST /api/admin/groups '{"name":"冒烟测试组"}' "$ADMIN_TOKEN")" data.id)"
CODE="$(jget "$(api POST /api/admin/activation-codes "{\"group_id\":$GROUP_ID}" "$ADMIN_TOKEN")" data.code)"
CLIENT_TOKEN="$(jget "$(api POST /api/auth/activate "{\"activation_code\":\"$CODE\"}")" data.token)"
ok "configs $CONFIG_ID, $SLOW_ID and $ENDLESS_ID, group $GROUP_ID, activation code, client token"
CALL="$(api POST /api/llm/call "{\"config_id\":$CONFIG_ID,\"messages\":[{\"role\":\"user\",\"content\":\"你好\"}]}" "$CLIENT_TOKEN")"
[ "$(jget "$CALL" data.response)" = "你好！很高兴为您服务。" ] || fail "unexpected call answer: $CALL"
CALL_LOG_ID="$(jget "$CALL" data.call_log_id)"
grep -q 'stream=False auth=ok' "$LOGS/fake-upstream.log" || fail "the upstream did not get the decrypted key"
ok "client call answered '$(jget "$CALL" data.response)' (record $CALL_LOG_ID; the upstream got the right key)"
curl -sS -N --max-time 60 -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $CLIENT_TOKEN" \
  --data-binary "{\"config_id\":$CONFIG_ID,\"messages\":[{\"role\":\"user\",\"content\":\"你好\"}]}" \
  "$BASE/api/llm/call-stream" >"$LOGS/stream.txt" || fail "streamed call failed: $(cat "$LOGS/stream.txt")"
grep -q '^event: chunk' "$LOGS/stream.txt" && grep -q '^event: done' "$LOGS/stream.txt" \
  || fail "streamed call: no 'event: chunk' ... 'event: done': $(head -c 600 "$LOGS/stream.txt")"
grep -q '很高兴' "$LOGS/stream.txt" || fail "streamed call: the text did not arrive"
ok "streamed call: event: chunk ... event: done"
TOTAL="$(jget "$(api GET '/api/admin/llm/logs?page_size=5' '' "$ADMIN_TOKEN")" total)"
[ "$TOTAL" -ge 2 ] || fail "the admin sees $TOTAL call records, expected 2"
ok "admin call log: total $TOTAL"

say "subcommands against the running server: healthcheck, backup"
run_exe healthcheck healthcheck
[ $RUN_RC = 0 ] && grep -q "^ok: $BASE/api/health" "$LOGS/healthcheck.log" || fail "healthcheck: rc $RUN_RC"
ok "healthcheck: $(tr -d '\r' <"$LOGS/healthcheck.log" | tail -n1)"
BACKUP="$SMOKE_ROOT/备份 backup.db"
run_exe backup backup "$(winpath "$BACKUP")"
[ $RUN_RC = 0 ] && [ -s "$BACKUP" ] || fail "backup: rc $RUN_RC, no $BACKUP"
[ "$(db_count "$BACKUP")" -ge 2 ] || fail "the backup lacks the call records"
ok "backup to $(winpath "$BACKUP"): a readable SQLite copy with the call records"

sleep 3
MEM_AFTER="$(mem_of "$SERVER_PID")"
ok "memory after the calls (under Wine): $MEM_AFTER"

# ---------------------------------------------------------------- 4. port in use
say "port in use: a second instance on port $PORT"
run_exe port-in-use
[ $RUN_RC = 1 ] || fail "a second instance on a busy port should exit 1 at once, got $RUN_RC (124 = hung)"
grep -qF "端口 $PORT 已被占用" "$LOGS/port-in-use.log" || fail "no Chinese 'port $PORT in use' message"
grep -qF 'config.toml' "$LOGS/port-in-use.log" || fail "the message does not say where to change the port"
grep -qi 'panick' "$LOGS/port-in-use.log" && fail "a panic instead of a message"
ok "exit $RUN_RC: $(grep -aF "端口 $PORT" "$LOGS/port-in-use.log" | head -n1 | tr -d '\r')"

say "double-click start on a busy port: the console window must stay open until Enter"
# Double-clicked, the .exe owns its console window, which closes the moment it exits: the
# message above would flash by unread. Under `script`, stdin is a terminal, i.e. a Wine console.
CURRENT_LOG="$LOGS/console-pause.log"
mkfifo "$LOGS/console-input"
(cd "$LAUNCH_CWD" && LLM_PROXY_OPEN_BROWSER=false exec timeout 60 script -qec "wine $(printf %q "$EXE")" /dev/null) \
  <"$LOGS/console-input" >"$CURRENT_LOG" 2>&1 &
console_pid=$!; SERVER_PIDS+=("$console_pid")
exec 7>"$LOGS/console-input"   # keep the console's input open: EOF would end the session
for _ in $(seq 1 60); do grep -aqF "端口 $PORT" "$CURRENT_LOG" && break; kill -0 $console_pid 2>/dev/null || break; sleep 0.5; done
sleep 3
waiting=0; kill -0 $console_pid 2>/dev/null && waiting=1
[ $waiting = 1 ] && { (printf '\r' >&7) 2>/dev/null || true; }   # Enter (a subshell: no SIGPIPE here)
for _ in $(seq 1 40); do kill -0 $console_pid 2>/dev/null || break; sleep 0.5; done
exec 7>&-
RUN_RC=0; wait $console_pid || RUN_RC=$?
grep -aqF "端口 $PORT" "$CURRENT_LOG" || fail "no port message in a console (rc $RUN_RC)"
if [ $waiting = 1 ] && [ $RUN_RC = 1 ] && grep -aq 'press Enter' "$CURRENT_LOG"; then
  ok "message shown; still open 3 s later; Enter closes it (exit 1)"
elif [ $waiting = 1 ]; then
  fail "with a console, the failed start did not end after Enter (rc $RUN_RC)"
else
  later_fail "with a console (double-click), a failed start exits at once (rc $RUN_RC): the window would close before the message can be read"
fi
grep -qF '初始密码' "$LOGS/port-in-use.log" "$CURRENT_LOG" && fail "a failed second start printed a new admin password"

say "first start of a fresh copy while its port is busy, then on a free port"
APP2="$SMOKE_ROOT/第二份 copy two"
mkdir -p "$APP2"; cp "$EXE_SRC" "$APP2/llm-proxy.exe"
CURRENT_LOG="$LOGS/fresh-busy.log"; RUN_RC=0
(cd "$LAUNCH_CWD" && LLM_PROXY_OPEN_BROWSER=false exec timeout 180 wine "$APP2/llm-proxy.exe") </dev/null >"$CURRENT_LOG" 2>&1 || RUN_RC=$?
[ $RUN_RC = 1 ] && grep -qF "端口 $PORT 已被占用" "$CURRENT_LOG" || fail "fresh copy on a busy port: rc $RUN_RC"
[ -f "$APP2/config.toml" ] || fail "no config.toml beside the fresh copy, although the message says to change the port there"
ok "exit 1 with the message, and config.toml is there to edit"
# Follow the message: set another port in config.toml (the environment no longer overrides it).
MAIN_PID=$SERVER_PID MAIN_BASE=$BASE
sed -i 's/^# bind = "127.0.0.1:8080"$/bind = "127.0.0.1:0"/' "$APP2/config.toml"
grep -q '^bind = "127.0.0.1:0"' "$APP2/config.toml" || fail "cannot set bind in the fresh copy's config.toml"
unset LLM_PROXY_BIND; export LLM_PROXY_OPEN_BROWSER=false
start_server fresh-second-try "$APP2/llm-proxy.exe"
reported_address "$CURRENT_LOG"
wait_ready
sleep 1
# Whichever start shows it: the admin must get to see the password that the database holds.
PASSWORD2="$(cat "$LOGS/fresh-busy.log" "$LOGS/fresh-second-try.log" | grep -aF '初始密码 / password:' | head -n1 \
  | sed 's/.*password:[[:space:]]*//' | tr -d '\r[:space:]' || true)"
if [ -n "$PASSWORD2" ]; then
  api POST /api/auth/login "{\"username\":\"admin\",\"password\":\"$PASSWORD2\"}" >/dev/null
  ok "the admin password of that first start is shown and logs in"
else
  # Independent of what follows: record it, run the rest, fail at the end.
  later_fail "after a first start that failed on a busy port, the generated admin password is never shown, so nobody can log in"
fi
stop_server
SERVER_PID=$MAIN_PID BASE=$MAIN_BASE
export LLM_PROXY_BIND="127.0.0.1:$PORT"; unset LLM_PROXY_OPEN_BROWSER

# ---------------------------------------------------------------- 5. Ctrl+C during a call
CURRENT_LOG="$LOGS/first-start.log"
say "Ctrl+C while a slow streamed call is in flight"
start_stream "$SLOW_ID" 慢一点 "$LOGS/slow-stream.txt"
SLOW_CURL=$STREAM_CURL
STOP_T=$(date +%s.%N)
stop_server
STOP_S=$(python3 -c "import time; print(f'{time.time() - $STOP_T:.1f}')")
wait "$SLOW_CURL" || true
[ "$STOP_RC" = 0 ] || fail "exit code $STOP_RC after Ctrl+C (expected 0)"
grep -q 'shutdown requested' "$LOG" && grep -q 'stopped' "$LOG" || fail "no graceful shutdown in the log"
grep -q '^event: done' "$LOGS/slow-stream.txt" || fail "the in-flight streamed call was cut off: $(tail -c 400 "$LOGS/slow-stream.txt")"
ok "stopped with exit 0 in ${STOP_S}s; the in-flight streamed call finished"
RECORDS="$(db_count "$APP_DIR/data/llm-proxy.db")"
[ "$RECORDS" -ge 3 ] || fail "only $RECORDS call records in data/llm-proxy.db after Ctrl+C (expected 3)"
ok "data/llm-proxy.db beside the .exe holds $RECORDS call records"

# ---------------------------------------------------------------- 6. second start
say "second start: open_browser = false in config.toml, everything reused"
sed -i 's/^# open_browser = false$/open_browser = false/' "$APP_DIR/config.toml"
grep -q '^open_browser = false' "$APP_DIR/config.toml" || fail "cannot set open_browser in config.toml"
browser_before="$(wc -l <"$BROWSER_LOG")"
start_server second-start "$EXE"
wait_ready
LOG="$LOGS/second-start.log"
ok "answering after ${READY_S}s"
grep -qF '初始密码' "$LOG" && fail "the second start generated a new admin password"
ADMIN_TOKEN="$(jget "$(api POST /api/auth/login "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}")" data.token)"
TOTAL="$(jget "$(api GET '/api/admin/llm/logs?page_size=5' '' "$ADMIN_TOKEN")" total)"
[ "$TOTAL" -ge 3 ] || fail "after the restart the admin sees $TOTAL call records, expected 3"
ok "same password logs in; call records found: total $TOTAL"
sleep 5
[ "$(wc -l <"$BROWSER_LOG")" = "$browser_before" ] || fail "the browser was opened although config.toml says open_browser = false"
ok "no browser with open_browser = false"

# ---------------------------------------------------------------- 7. console window closed
say "console window closed (CTRL_CLOSE_EVENT) while a streamed call cannot finish in time"
# Wine 8 sends no console events (closing a wineconsole window ends the program at once), so the
# event is delivered as Windows delivers it (scripts/windows/console-event.c), and the test plays
# Windows' other part: a program still running 5 s after the event is ended.
console_event_exe="$SMOKE_ROOT/console-event.exe"
x86_64-w64-mingw32-gcc -O2 -s -o "$console_event_exe" "$ROOT/scripts/windows/console-event.c" \
  || fail "cannot compile scripts/windows/console-event.c"
start_stream "$ENDLESS_ID" 一直说下去 "$LOGS/endless-stream.txt"
ENDLESS_CURL=$STREAM_CURL
(cd "$LAUNCH_CWD" && exec timeout 60 wine "$console_event_exe" llm-proxy.exe close) </dev/null >"$LOGS/console-event.log" 2>&1 \
  || fail "console-event.exe failed: $(cat "$LOGS/console-event.log")"
CLOSE_T=$(date +%s.%N)
while kill -0 "$SERVER_PID" 2>/dev/null; do
  if python3 -c "import sys, time; sys.exit(time.time() - $CLOSE_T < 5)"; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    fail "still running 5 s after CTRL_CLOSE_EVENT: Windows would have ended it there"
  fi
  sleep 0.1
done
CLOSE_S=$(python3 -c "import time; print(f'{time.time() - $CLOSE_T:.1f}')")
wait "$SERVER_PID" || true
wait "$ENDLESS_CURL" || true
grep -a 'shutdown requested' "$LOG" | grep -aq 'ConsoleEvent' \
  || fail "no shutdown for the console event in the log: $(grep -a 'shutdown' "$LOG" | tail -n 3)"
grep -aq 'stopped' "$LOG" || fail "the server did not finish its shutdown"
ok "$(tr -d '\r' <"$LOGS/console-event.log"); the program shut down by itself in ${CLOSE_S}s (Windows allows 5 s)"
read -r ENDLESS_STATUS INSTANCES < <(python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
status = db.execute("select status from llm_call_logs where config_id = ?", (int(sys.argv[2]),)).fetchall()
print(",".join(s for (s,) in status) or "none", db.execute("select count(*) from instances").fetchone()[0])
' "$APP_DIR/data/llm-proxy.db" "$ENDLESS_ID") || fail "cannot read data/llm-proxy.db"
[ "$ENDLESS_STATUS" = interrupted ] || fail "the call cut off by the close event is recorded as '$ENDLESS_STATUS', expected one record 'interrupted'"
[ "$INSTANCES" = 0 ] || fail "$INSTANCES instance row(s) left in the database: the shutdown did not finish"
ok "the call it could not finish is recorded as interrupted; no instance row is left"
CURRENT_LOG=""

# ---------------------------------------------------------------- 8. Windows service
say "Windows service through Wine's service manager: install, start, call, stop, uninstall"
# Wine stops its services (as system processes) once no ordinary Wine process is left, and
# starts automatic ones when it starts again: a console kept open for the whole section keeps
# one Wine session, as a logged-in Windows would be.
mkfifo "$LOGS/keep-wine-up"
(exec wine cmd) <"$LOGS/keep-wine-up" >/dev/null 2>&1 &
SERVER_PIDS+=("$!")
exec 8>"$LOGS/keep-wine-up"
SERVICE_INSTALLED=0
run_exe service-preclean service uninstall   # a previous failed run may have left it in the prefix
run_exe service-install service install --bind "127.0.0.1:0"
[ $RUN_RC = 0 ] || fail "service install: rc $RUN_RC"
SERVICE_INSTALLED=1
ok "installed: $(grep -a 'installed' "$CURRENT_LOG" | head -n1 | tr -d '\r')"
run_exe service-status-stopped service status
[ $RUN_RC = 0 ] && grep -aq 'Stopped' "$CURRENT_LOG" || fail "service status before start: rc $RUN_RC"
grep -aqF -- "--bind 127.0.0.1:0" "$CURRENT_LOG" && grep -aqF 'service run' "$CURRENT_LOG" \
  || fail "the registered command line lacks --bind or 'service run': $(cat "$CURRENT_LOG")"
ok "status: Stopped; command line: $(grep -a 'command' "$CURRENT_LOG" | tr -d '\r' | sed 's/.*:  //')"
run_exe service-start service start
[ $RUN_RC = 0 ] || fail "service start: rc $RUN_RC"
SERVICE_LOG="$APP_DIR/data/logs/llm-proxy.log"
reported_address "$SERVICE_LOG"
for _ in $(seq 1 "$TIMEOUT"); do curl -fsS --max-time 5 -o /dev/null "$BASE/api/health" 2>/dev/null && break; sleep 1; done
curl -fsS --max-time 5 -o /dev/null "$BASE/api/health" || fail "the service does not answer on $BASE"
run_exe service-status-running service status
grep -aq 'Running' "$CURRENT_LOG" || fail "service status while running: $(cat "$CURRENT_LOG")"
SC_STATE="$(wine sc query llm-proxy 2>/dev/null | tr -d '\r' | grep -a 'STATE' || true)"
[[ "$SC_STATE" == *RUNNING* ]] || fail "Wine's sc query does not show it running: '$SC_STATE'"
ok "started; answering on $BASE; status: Running; sc query: $(echo $SC_STATE)"
ADMIN_TOKEN="$(jget "$(api POST /api/auth/login "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}")" data.token)"
CALL="$(api POST /api/llm/call "{\"config_id\":$CONFIG_ID,\"messages\":[{\"role\":\"user\",\"content\":\"你好\"}]}" "$CLIENT_TOKEN")"
[ "$(jget "$CALL" data.response)" = "你好！很高兴为您服务。" ] || fail "call through the service: $CALL"
ok "admin login and a client call through the service"
[ -s "$SERVICE_LOG" ] && grep -aq 'listening' "$SERVICE_LOG" || fail "no server log in data\\logs\\llm-proxy.log"
ok "log file data\\logs\\llm-proxy.log ($(wc -l <"$SERVICE_LOG") lines)"
run_exe service-stop service stop
[ $RUN_RC = 0 ] || fail "service stop: rc $RUN_RC"
curl -fsS --max-time 3 -o /dev/null "$BASE/api/health" 2>/dev/null && fail "still answering after service stop"
grep -aq 'stop requested by the service manager' "$SERVICE_LOG" && grep -aq 'stopped' "$SERVICE_LOG" \
  || fail "no graceful stop in the service log: $(tail -n 5 "$SERVICE_LOG")"
ok "stopped gracefully (STOP_PENDING, then the usual shutdown in the log)"
run_exe service-uninstall service uninstall
[ $RUN_RC = 0 ] || fail "service uninstall: rc $RUN_RC"
SERVICE_INSTALLED=0
run_exe service-status-gone service status
[ $RUN_RC = 1 ] && grep -aq 'not installed' "$CURRENT_LOG" || fail "status after uninstall: rc $RUN_RC"
ok "uninstalled; status now says it is not installed (exit 1)"
run_exe service-run-console service run
[ $RUN_RC = 1 ] || fail "'service run' outside the service manager: rc $RUN_RC"
ok "'service run' from a console refuses: $(grep -a 'error' "$CURRENT_LOG" | head -n1 | tr -d '\r' | cut -c1-100)"
exec 8>&-   # end of input: the console keeping Wine up exits
CURRENT_LOG=""

if [ ${#LATER_FAILURES[@]} -gt 0 ]; then
  printf '    - %s\n' "${LATER_FAILURES[@]}" >&2
  fail "${#LATER_FAILURES[@]} check(s) failed (listed above); everything else passed"
fi
say "windows-smoke: OK in $(( $(date +%s) - T0 )) s"
echo "  exe:               $EXE_SRC ($(stat -c %s "$EXE_SRC") bytes)"
echo "  first start:       answering after ${FIRST_READY_S}s (under Wine)"
echo "  idle memory:       $MEM_IDLE (under Wine, after start)"
echo "  after calls:       $MEM_AFTER"
echo "  Ctrl+C to exit:    ${STOP_S}s with a streamed call in flight"
