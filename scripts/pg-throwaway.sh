#!/bin/sh
# scripts/pg-throwaway.sh start DIR | stop DIR - a disposable PostgreSQL for tests.
#
# start: creates a cluster in DIR/data (DIR must exist and be empty or new),
# listening only on a Unix socket in DIR/run (listen_addresses=''), with a
# trusted superuser `otcm`, and prints its libpq connection string
# ("host=DIR/run dbname=postgres user=otcm").  stop: fast shutdown by pg_ctl.
#
# initdb and postgres refuse to run as root, so as root the cluster runs as
# the `postgres` account (created by Debian's postgresql-common) and DIR is
# handed to it.  PG_BINDIR overrides the search of /usr/lib/postgresql/*/bin.
set -eu

usage() { echo "usage: scripts/pg-throwaway.sh start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
		[ -x "$d/initdb" ] && bindir=$d
	done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
	echo "pg-throwaway: no PostgreSQL server binaries (install postgresql-15 or set PG_BINDIR)" >&2
	exit 1
fi

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	chmod 0755 "$dir"
	mkdir -p "$dir/run"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir" "$dir/run"
	fi
	as_owner "$bindir/initdb" -D "$dir/data" -U otcm --auth=trust -E UTF8 \
		--locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-c listen_addresses='' -k $dir/run -c fsync=off -c max_connections=100" \
		start >/dev/null || {
		cat "$dir/postgres.log" >&2
		exit 1
	}
	echo "host=$dir/run dbname=postgres user=otcm"
	;;
stop)
	[ -f "$dir/data/postmaster.pid" ] || exit 0
	as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
	;;
*)
	usage
	;;
esac
