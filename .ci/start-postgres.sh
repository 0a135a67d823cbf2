#!/usr/bin/env bash
# Starts a throw-away PostgreSQL on a loopback port for the tests, as an unprivileged user
# (initdb refuses root). Prints the connection string to use as SPE_TEST_POSTGRES.
set -euo pipefail
port="${SPE_PG_PORT:-55432}"
base="${SPE_PG_DIR:-/tmp/openspe-pg}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
id -u openspe-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin openspe-pg
if ! pg_isready -h 127.0.0.1 -p "$port" -q 2>/dev/null; then
  rm -rf "$base"; mkdir -p "$base/data" "$base/sock"; chown -R openspe-pg "$base"
  setpriv --reuid=openspe-pg --regid="$(id -g openspe-pg)" --clear-groups \
    "$bin/initdb" -D "$base/data" -U postgres --auth=trust -E UTF8 >"$base/initdb.log" 2>&1
  setpriv --reuid=openspe-pg --regid="$(id -g openspe-pg)" --clear-groups \
    "$bin/pg_ctl" -D "$base/data" -l "$base/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $base/sock -c fsync=on -c max_connections=200" -w start >/dev/null
fi
echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
