#!/usr/bin/env bash
# `make bench`: a throw-away PostgreSQL 15 (as .ci/run starts it: a temp dir, the postgres user when root, no fsync,
# always stopped at the end), then `python -m bench.run` against it. BENCH_PG_URL=postgres://… uses a server you
# have instead (its database is filled with the benchmark data). BENCH_DB=sqlite runs on a temporary SQLite file
# (no bulk generator: a smoke run). Arguments are passed on to bench.run (e.g. --scale 100).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DB="${BENCH_DB:-postgres}"
BENCH_DIR="$(mktemp -d /tmp/gongzhi-bench.XXXXXX)"
export GONGZHI_DEMO=1 DEBUG=0 GONGZHI_VAR_DIR="$BENCH_DIR/var"
mkdir -p "$GONGZHI_VAR_DIR"

PG_DIR=""
PG_BIN=""
as_postgres() {
    if [ "$(id -u)" = 0 ]; then (cd "$PG_DIR" && runuser -u postgres -- "$@"); else (cd "$PG_DIR" && "$@"); fi
}
cleanup() {
    if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
        echo "Stopping the benchmark PostgreSQL server."
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$BENCH_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

find_pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && [ -x "$dir/psql" ]; then echo "$dir"; return 0; fi
    done
    return 1
}
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "$BENCH_DB" = sqlite ]; then
    export DATABASE_URL="sqlite:///$BENCH_DIR/bench.sqlite3"
elif [ -n "${BENCH_PG_URL:-}" ]; then
    export DATABASE_URL="$BENCH_PG_URL"
else
    if ! PG_BIN="$(find_pg_bin)"; then
        if [ "$(id -u)" != 0 ]; then
            echo "ERROR: PostgreSQL is not installed; as root, run: apt-get install -y postgresql" >&2
            exit 1
        fi
        echo "Installing PostgreSQL (apt-get install postgresql)."
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
        PG_BIN="$(find_pg_bin)"
    fi
    PG_DIR="$BENCH_DIR/pg"
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; chmod 755 "$BENCH_DIR"; fi
    PG_PORT=55439
    while ! port_is_free "$PG_PORT"; do PG_PORT=$(( PG_PORT + 1 )); done
    PG_PASSWORD="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
    echo "PostgreSQL: $("$PG_BIN/postgres" --version), cluster in $PG_DIR, 127.0.0.1:$PG_PORT"
    as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" || { cat "$PG_DIR/initdb.log"; exit 1; }
    # Durability off (a throw-away server, as in CI); memory sized for a 24 GiB machine shared with other work.
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c shared_buffers=2GB -c work_mem=64MB -c maintenance_work_mem=1GB \
            -c max_wal_size=8GB -c effective_cache_size=8GB" \
        start >/dev/null || { cat "$PG_DIR/server.log"; exit 1; }
    as_postgres "$PG_BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
        -c "CREATE ROLE gongzhi LOGIN PASSWORD '$PG_PASSWORD'" -c "CREATE DATABASE gongzhi OWNER gongzhi"
    export DATABASE_URL="postgres://gongzhi:$PG_PASSWORD@127.0.0.1:$PG_PORT/gongzhi"
fi

.venv/bin/python -m bench.run "$@"
