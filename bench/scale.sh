#!/bin/bash
# bench/scale.sh - a year of a large plant, and evidence at speed.
#
# Builds, in a throwaway PostgreSQL cluster, a database of 10,000 assets,
# 100,000 versions (real git objects, one small ST program each), 1,000
# changes over two assets each and 2,000,000 audit events hash-chained as the
# server chains them (bench/scale_gen.c, linked against libotcm, writes the
# rows as COPY text; nothing is faked that `otcm audit verify` checks), and
# beside it a freshly migrated empty database.  One otcm server runs on each,
# and every measure is printed for both, or beside a reference from the same
# run:
#
#   1. list and search latency, p50/p99 over BENCH_REQUESTS requests on one
#      keep-alive connection: assets, changes and the audit trail, first
#      page, a page deep into the list (keyset cursors) and a filtered search
#      (ratio: full / empty; flat means about 1)
#   2. the population and exceptions reports of the year (median of 3)
#   3. signing the first checkpoint over the whole trail (recomputes the chain
#      and stores the Merkle subtrees), and the evidence bundle of a change
#      over 2 assets x 20 versions (median of 5), full / empty
#   4. `otcm audit verify` of the whole trail against `sha256sum` over the
#      same canonical bytes, and against psql reading the same rows
#   5. the database's size per version
#
# Environment: BUILD (default build), SCALE (default 1: the sizes above;
# 0.01 for a quick run), BENCH_REQUESTS (default 200), SCALE_KEEP=1 keeps the
# temporary folder (the servers' logs, the cluster) for a look afterwards.  Called by `make bench`
# (BENCH_SCALE=0 there skips it); results and how to read them:
# docs/benchmarks.md.
set -euo pipefail

cd "$(dirname "$0")/.."
. bench/lib.sh
BUILD=${BUILD:-build}
scale=${SCALE:-1}
requests=${BENCH_REQUESTS:-200}
otcm=$PWD/$BUILD/otcm
gen=$PWD/$BUILD/bench/scale_gen
client=$PWD/bench/scale_client.py

for f in "$otcm" "$gen"; do
	[ -x "$f" ] || { echo "scale: $f is not built (run make bench)" >&2; exit 1; }
done
for t in psql sha256sum python3; do
	command -v "$t" >/dev/null || { echo "scale: $t is missing" >&2; exit 1; }
done

n() { awk -v b="$1" -v s="$scale" 'BEGIN { v = int(b * s + 0.5); print (v < 1 ? 1 : v) }'; }
assets=$(n 10000)
versions=$(n 100000)
changes=$(n 1000)
events=$(n 2000000)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otcm-scale.XXXXXX")
chmod 0755 "$tmp"
pg=$tmp/pg
mkdir -p "$pg"
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do stop_pid "$p"; done
	scripts/pg-throwaway.sh stop "$pg" >/dev/null 2>&1 || true
	if [ -n "${SCALE_KEEP:-}" ]; then
		echo "scale: kept $tmp (servers' logs, the cluster)" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }'; }

scripts/pg-throwaway.sh start "$pg" >"$tmp/pg.conninfo"
host=$pg/run
sql() { local db=$1; shift; psql "host=$host user=otcm dbname=$db" -X -qAt -v ON_ERROR_STOP=1 "$@"; }
sql postgres -c "CREATE DATABASE otcm_empty" -c "CREATE DATABASE otcm_full"
url() { echo "postgresql:///$1?host=$host&user=otcm"; }

echo "otcm scale bench: $(nproc) cores; $assets assets, $versions versions, $changes changes, $events audit events (SCALE=$scale)"
echo

# --- the two databases -------------------------------------------------------------

"$otcm" migrate --database "$(url otcm_empty)" >/dev/null 2>"$tmp/migrate.log"
"$otcm" migrate --database "$(url otcm_full)" >/dev/null 2>>"$tmp/migrate.log"
[ "$(sql otcm_full -c 'SELECT seq FROM audit_head')" = 0 ] || { echo "scale: migrations wrote audit events" >&2; exit 1; }

t0=$(now_s)
to_us=$(( ($(date +%s) - 3600) * 1000000 ))
from_us=$(( to_us - 365 * 86400 * 1000000 ))
mkdir -p "$tmp/rows"
last=$("$gen" "$tmp/rows" "$assets" "$versions" "$changes" "$events" "$from_us" "$to_us")
gen_s=$(since "$t0")
t0=$(now_s)
r=$tmp/rows
sql otcm_full -1 >/dev/null <<SQL
\\copy users (id, username, display_name, email, role, password_hash, created_at, updated_at) FROM '$r/users.copy'
\\copy assets (id, path, type, vendor, model, firmware, description, created_by, created_at, updated_at) FROM '$r/assets.copy'
\\copy git_objects (oid, type, size, data) FROM '$r/git_objects.copy'
\\copy versions (id, asset_id, commit_oid, tree_oid, parent_oid, branch, message, author_id, created_at) FROM '$r/versions.copy'
\\copy refs (asset_id, name, oid, updated_at) FROM '$r/refs.copy'
\\copy changes (id, type, title, reason, risk, safety_related, implementation_plan, rollback_plan, window_start, window_end, requester_id, state, deployed_at, retro_due_at, created_at, updated_at) FROM '$r/changes.copy'
\\copy change_assets (change_id, asset_id) FROM '$r/change_assets.copy'
\\copy audit_events (seq, at, actor_id, actor, role, source, request_id, action, object_type, object_id, before, after, reason, prev_hash, hash) FROM '$r/audit_events.copy'
UPDATE audit_head SET seq = ${last% *}, hash = decode('${last#* }', 'hex');
SELECT setval('users_id_seq', (SELECT max(id) FROM users));
SELECT setval('assets_id_seq', (SELECT max(id) FROM assets));
SELECT setval('versions_id_seq', (SELECT max(id) FROM versions));
SELECT setval('changes_id_seq', (SELECT max(id) FROM changes));
SQL

sql otcm_full -c "VACUUM ANALYZE"
load_s=$(since "$t0")
rm -rf "$tmp/rows"
echo "rows generated in ${gen_s} s, loaded (COPY, indexes, VACUUM ANALYZE) in ${load_s} s"

# --- a server on each ----------------------------------------------------------------

password="Scale-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
declare -A port token
for db in otcm_empty otcm_full; do
	mkdir -p "$tmp/data-$db"
	OTCM_USER_PASSWORD=$password "$otcm" user --database "$(url $db)" add bench --role admin >/dev/null
	port[$db]=$(free_port)
	# checkpoints only when asked: the background writer would sign over the trail mid-measure
	"$otcm" serve --database "$(url $db)" --data "$tmp/data-$db" --listen "127.0.0.1:${port[$db]}" \
		--checkpoint-every 0 --checkpoint-minutes 0 >"$tmp/$db.out" 2>"$tmp/$db.log" &
	pids+=($!)
	for i in $(seq 1 600); do
		grep -q "otcm: serving on" "$tmp/$db.out" 2>/dev/null && break
		kill -0 "${pids[-1]}" 2>/dev/null || { echo "scale: otcm on $db did not start:" >&2; tail -n 20 "$tmp/$db.log" >&2; exit 1; }
		sleep 0.1
	done
	token[$db]=$(python3 "$client" token "${port[$db]}" bench "$password")
done

# --- 3. the first checkpoint over the trail, and a change to bundle ------------------
#
# Made before the latency runs, so that both databases hold the bench change:
# its two assets are 1 and 2 of the empty database (the lists' searches name
# them), and the empty database is empty but for it.

declare -A cp_s key
for db in otcm_empty otcm_full; do
	t0=$(now_s)
	status=$(curl -s -o "$tmp/cp.json" -w '%{http_code}' -X POST -H "Authorization: Bearer ${token[$db]}" \
		"http://127.0.0.1:${port[$db]}/api/v1/audit/checkpoint")
	cp_s[$db]=$(since "$t0")
	case $status in 200|201) ;; *) echo "scale: POST /api/v1/audit/checkpoint answered $status" >&2; cat "$tmp/cp.json" >&2; exit 1 ;; esac
done
for db in otcm_empty otcm_full; do
	key[$db]=$(python3 "$client" bundle-change "${port[$db]}" "${token[$db]}" 20)
done
# --- 1. list and search latency ------------------------------------------------------

mid_asset=site-2/area-0
mid_change=CHG-$(( changes / 2 ))
mid_seq=$(( events / 2 ))
paths=(
	"assets, first page" "/api/v1/assets?limit=50"
	"assets, deep page (cursor)" "/api/v1/assets?limit=50&cursor=$mid_asset"
	"assets, search by path prefix" "/api/v1/assets?prefix=site-1/area-6&limit=50"
	"asset versions, first page" "/api/v1/assets/1/versions?limit=50"
	"changes, first page" "/api/v1/changes?limit=50"
	"changes, deep page (cursor)" "/api/v1/changes?limit=50&cursor=$mid_change"
	"changes, search by state" "/api/v1/changes?state=implementing&limit=50"
	"changes, search by asset" "/api/v1/changes?asset=2&limit=50"
	"audit, first page" "/api/v1/audit?limit=100"
	"audit, deep page (after)" "/api/v1/audit?after=$mid_seq&limit=100"
	"audit, search by object" "/api/v1/audit?object_type=change&object_id=$mid_change&limit=100"
)
for db in otcm_empty otcm_full; do
	python3 "$client" latency "${port[$db]}" "${token[$db]}" "$requests" "${paths[@]}" >"$tmp/lat-$db.jsonl"
done
python3 - "$tmp/lat-otcm_empty.jsonl" "$tmp/lat-otcm_full.jsonl" "$requests" <<'PY'
import json, sys
empty = [json.loads(l) for l in open(sys.argv[1])]
full = [json.loads(l) for l in open(sys.argv[2])]
print("%-34s %24s %24s %10s" % ("list latency, %s requests, ms" % sys.argv[3], "empty p50 / p99 (rows)",
                                 "full p50 / p99 (rows)", "ratio p50"))
for e, f in zip(empty, full):
    print("%-34s %7.2f / %6.2f (%5d) %7.2f / %6.2f (%5d) %10.2f" % (e["name"], e["p50"], e["p99"], e["items"],
                                                                f["p50"], f["p99"], f["items"], f["p50"] / e["p50"]))
PY
echo

# --- 2. reports of the year ----------------------------------------------------------

from=$(date -u -d "@$(( from_us / 1000000 ))" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u +%Y-%m-%dT%H:%M:%SZ)
printf '%-34s %14s %14s %10s\n' "reports of the year, median of 3" "empty s" "full s" "ratio"
for rep in population exceptions; do
	read -r e _ < <(python3 "$client" once "${port[otcm_empty]}" "${token[otcm_empty]}" 3 "/api/v1/reports/$rep?from=$from&to=$to")
	read -r f size < <(python3 "$client" once "${port[otcm_full]}" "${token[otcm_full]}" 3 "/api/v1/reports/$rep?from=$from&to=$to")
	printf '%-34s %14s %14s %10s\n' "$rep ($size bytes)" "$e" "$f" "$(ratio "$f" "$e")"
done
echo

# --- evidence at speed --------------------------------------------------------------

printf '%-34s %14s %14s %10s\n' "checkpoint and evidence" "empty s" "full s" "ratio"
printf '%-34s %14s %14s %10s\n' "sign the first checkpoint" "${cp_s[otcm_empty]}" "${cp_s[otcm_full]}" \
	"$(ratio "${cp_s[otcm_full]}" "${cp_s[otcm_empty]}")"
for db in otcm_empty otcm_full; do
	# the first bundle signs a checkpoint over the change's events; then five more
	python3 "$client" once "${port[$db]}" "${token[$db]}" 1 "/api/v1/changes/${key[$db]}/evidence" >/dev/null
done
read -r e _ < <(python3 "$client" once "${port[otcm_empty]}" "${token[otcm_empty]}" 5 "/api/v1/changes/${key[otcm_empty]}/evidence")
read -r f size < <(python3 "$client" once "${port[otcm_full]}" "${token[otcm_full]}" 5 "/api/v1/changes/${key[otcm_full]}/evidence")
printf '%-34s %14s %14s %10s\n' "evidence, 2 assets x 20 versions" "$e" "$f" "$(ratio "$f" "$e")"
echo "  (goal: <= 0.200 s at full size; the bundle is $size bytes; the full trail has" \
	"$(sql otcm_full -c 'SELECT count(*) FROM audit_merkle_nodes') stored Merkle subtrees to prove from)"
echo

# --- 4. otcm audit verify against sha256sum ------------------------------------------

nev=$(sql otcm_full -c "SELECT seq FROM audit_head")
t0=$(now_s)
"$otcm" audit verify --database "$(url otcm_full)" --data "$tmp/data-otcm_full" >"$tmp/verify.out" 2>&1 ||
	{ echo "scale: otcm audit verify failed:" >&2; tail -n 5 "$tmp/verify.out" >&2; exit 1; }
verify_s=$(since "$t0")
# the same bytes: each event's prev_hash then its canonical text
sql otcm_full -c "\\copy (SELECT encode(prev_hash, 'hex') || audit_event_canonical(e) FROM audit_events e ORDER BY seq) TO '$tmp/canonical.txt'"
t0=$(now_s)
psql "host=$host user=otcm dbname=otcm_full" -X -qAt -c "SELECT seq, at, actor_id, actor, role, source, request_id, action, object_type, object_id, before, after, reason, prev_hash, hash FROM audit_events ORDER BY seq" >/dev/null
read_s=$(since "$t0")
t0=$(now_s)
sha256sum "$tmp/canonical.txt" >/dev/null
sha_s=$(since "$t0")
mib=$(stat -c %s "$tmp/canonical.txt" | awk '{ printf "%.0f", $1 / 1048576 }')
rm -f "$tmp/canonical.txt"
printf '%-44s %10s %10s\n' "audit verify, $nev events ($mib MiB)" "seconds" "ratio"
printf '%-44s %10s %10s\n' "reference: sha256sum over the same bytes" "$sha_s" "1.00"
printf '%-44s %10s %10s\n' "reference: psql reading the same rows" "$read_s" "$(ratio "$read_s" "$sha_s")"
printf '%-44s %10s %10s\n' "otcm audit verify" "$verify_s" "$(ratio "$verify_s" "$sha_s")"
echo

# --- 5. size -------------------------------------------------------------------------

read -r dbsize emptysize objsize nver < <(sql otcm_full -F ' ' -c "SELECT pg_database_size('otcm_full'),
	pg_database_size('otcm_empty'), pg_total_relation_size('git_objects') + pg_total_relation_size('versions')
	+ pg_total_relation_size('refs'), (SELECT count(*) FROM versions)")
echo "database size: $(awk -v s="$dbsize" 'BEGIN { printf "%.0f MiB", s / 1048576 }') for $nver versions and $nev events"
awk -v d="$dbsize" -v e="$emptysize" -v o="$objsize" -v n="$nver" 'BEGIN {
	printf "  per version, whole database less an empty one: %.1f KiB\n", (d - e) / n / 1024
	printf "  per version, git objects, versions and refs alone: %.1f KiB\n", o / n / 1024 }'
