#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the clinic server's tests: initdb in a temporary
# directory, listening on loopback only, run as a non-root user (PostgreSQL refuses root).
#   scripts/postgres.sh start DIR   prints the cluster's URL (postgres://vigil@127.0.0.1:PORT/postgres)
#   scripts/postgres.sh stop DIR    stops it and removes DIR
# scripts/test.sh starts one before the Rust tests and stops it afterwards; nothing assumes a
# PostgreSQL is already running.
set -euo pipefail
verb="${1:?start or stop}"
dir="${2:?a directory}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$bin/initdb" ] || { echo "postgres.sh: no PostgreSQL server (Debian package postgresql-15; scripts/setup.sh test installs it)" >&2; exit 1; }

# As root, the cluster runs as the `postgres` user the Debian package made.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$verb" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U vigil -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # A free port on loopback: bind port 0 and take what the kernel gave.
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    # Test settings: no fsync (a throwaway cluster; the tests kill servers, not machines), room
    # for many connections (every test server opens a pool).
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://vigil@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "postgres.sh: start or stop, not $verb" >&2; exit 2 ;;
esac
