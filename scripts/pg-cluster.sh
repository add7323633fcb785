#!/usr/bin/env bash
# A throw-away PostgreSQL cluster from Debian's package, for tests and
# benchmarks: initdb into a folder, listening only on a Unix socket in that
# folder (no TCP port), trust authentication for the local user.
#
#   scripts/pg-cluster.sh start DIR   # prints the connection URL
#   scripts/pg-cluster.sh stop DIR
#   scripts/pg-cluster.sh restart DIR
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# `postgres` user of Debian's package and its socket folder is opened to all.
set -euo pipefail
command=${1:?usage: pg-cluster.sh start|stop|restart DIR}
dir=${2:?usage: pg-cluster.sh start|stop|restart DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg-cluster: PostgreSQL's server is not installed (apt-get install postgresql)" >&2; exit 1; }
as_owner=()
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    as_owner=(runuser -u postgres --)
fi
data="$dir/data"
case "$command" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir" && chmod 0777 "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        "${as_owner[@]}" "$bin/initdb" -D "$data" -U "$owner" -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $dir -c fsync=on -c max_connections=100" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://$owner@/postgres?host=$dir"
    ;;
stop)
    "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    ;;
restart)
    "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -m fast -w -t 60 -l "$dir/server.log" \
        -o "-c listen_addresses='' -k $dir" restart >/dev/null
    ;;
*)
    echo "usage: pg-cluster.sh start|stop|restart DIR" >&2; exit 2 ;;
esac
