#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests (Debian's `postgresql` package).
#
#   scripts/pg-test-server.sh start DIR [PORT]   initdb on first use, then start (idempotent)
#   scripts/pg-test-server.sh stop  DIR [PORT]   stop it if running (idempotent)
#   scripts/pg-test-server.sh url   DIR [PORT]   print the libpq URL
#   scripts/pg-test-server.sh start-any DIR      start on the first free port of a few
#                                                 (derived from the caller's pid), print it
#
# initdb refuses to run as root, so the server runs as the `postgres` user (via runuser
# when we are root), with DIR owned by it: DIR/data, DIR/sock (the Unix socket) and
# DIR/server.log. Trust authentication on 127.0.0.1:PORT (default 54329) and the socket
# only; fsync and synchronous commit are off because the data is thrown away.
set -euo pipefail
cmd=${1:?usage: pg-test-server.sh start|stop|url DIR [PORT]}
dir=${2:?usage: pg-test-server.sh start|stop|url DIR [PORT]}
port=${3:-54329}
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/pg_ctl" ] || { echo "pg-test-server: $bin/pg_ctl not found (apt-get install postgresql)" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start-any)
    # Other builds (normal and ASan) or tests may hold a port at the same time: try a few.
    seed=${PPID:-$$}
    for p in $((54329 + seed % 200)) $((54530 + seed % 200)) $((54731 + seed % 200)) 54329; do
      if "$0" start "$dir" "$p" 2>"$dir/start.err"; then echo "$p"; exit 0; fi
      "$0" stop "$dir" "$p" || true
    done
    cat "$dir/start.err" >&2
    echo "pg-test-server: could not start PostgreSQL on any port tried" >&2
    exit 1
    ;;
  start)
    if "$bin/pg_isready" -q -h "$dir/sock" -p "$port" 2>/dev/null; then exit 0; fi
    mkdir -p "$dir/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
    if ! as_pg test -w "$dir"; then
      echo "pg-test-server: the postgres user cannot write $dir (is a parent directory private?)" >&2
      exit 1
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      rm -rf "$dir/data"
      as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # A stale pid file from a killed server would make pg_ctl refuse to start.
    if [ -f "$dir/data/postmaster.pid" ] && ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      rm -f "$dir/data/postmaster.pid"
    fi
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
      "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
      start >/dev/null || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    ;;
  url)
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  *)
    echo "pg-test-server: unknown command $cmd" >&2
    exit 2
    ;;
esac
