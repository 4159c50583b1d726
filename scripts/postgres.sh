#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL on 127.0.0.1 for the test suite, from Debian's packages.
#   scripts/postgres.sh start   installs postgresql if missing, creates a fresh data dir, starts it, and prints
#                               `export METRICC_PG_...` lines for eval
#   scripts/postgres.sh stop    stops it and deletes the data dir
#   scripts/postgres.sh halt    stops it and keeps the data dir; `resume` starts it again (the fault tests)
# Everything lives under ${METRICC_PG_DIR:-/tmp/metricc-postgres}; nothing touches a system cluster.
set -euo pipefail
dir="${METRICC_PG_DIR:-/tmp/metricc-postgres}"
port="${METRICC_PG_PORT:-55432}"
password="metricc-test"

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

serve() {
  as_postgres "$1/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

case "${1:-}" in
  start)
    if ! bin="$(find_bin)"; then
      echo "postgres.sh: installing postgresql from Debian's packages ..." >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
      bin="$(find_bin)"
    fi
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    printf '%s\n' "$password" > "$dir/pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/pwfile"
    as_postgres "$bin/initdb" -D "$dir/data" -U metricc --pwfile="$dir/pwfile" -A scram-sha-256 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    serve "$bin"
    PGPASSWORD="$password" "$bin/psql" -h 127.0.0.1 -p "$port" -U metricc -d postgres -qc "create database analytics" >/dev/null
    echo "export METRICC_PG_HOST=127.0.0.1 METRICC_PG_PORT=$port METRICC_PG_DATABASE=analytics METRICC_PG_USER=metricc METRICC_PG_PASSWORD=$password"
    ;;
  stop)
    if bin="$(find_bin)" && [ -d "$dir/data" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  halt)
    # Stops the server (fast: open sessions are cut) and keeps its data: what a server that went away mid-run looks like.
    bin="$(find_bin)"
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    serve "$(find_bin)"
    ;;
  *)
    echo "usage: scripts/postgres.sh start|stop|halt|resume" >&2
    exit 2
    ;;
esac
