#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the test suite and prints its URL on stdout.
# Installs Debian's postgresql when it is missing. Runs as root: the server itself runs as
# the `postgres` user, in a fresh data folder, on a free loopback port.
set -euo pipefail

log() { echo "[postgres] $*" >&2; }

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  ls /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(find_bin initdb)" ]; then
  log "installing postgresql"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)
id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres

PORT=${PG_TEST_PORT:-55432}
DIR=${PG_TEST_DIR:-/tmp/llm-proxy-pg}
if [ -f "$DIR/data/postmaster.pid" ]; then
  su postgres -s /bin/sh -c "'$PG_CTL' -D '$DIR/data' -m immediate stop" >&2 || true
fi
rm -rf "$DIR"
mkdir -p "$DIR"
chown postgres "$DIR"
su postgres -s /bin/sh -c "'$INITDB' -D '$DIR/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
su postgres -s /bin/sh -c "'$PG_CTL' -D '$DIR/data' -l '$DIR/log' -w -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off' start" >&2
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
