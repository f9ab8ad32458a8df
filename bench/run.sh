#!/bin/bash
# bench/run.sh - otcm's benchmarks, each printed as a ratio against a
# reference measured in the same invocation on the same machine (`make bench`).
#
#   1. read throughput: wrk against GET /api/v1/assets/{id} (bearer token) on
#      otcm, and against bench/ref_server (bare libmicrohttpd, fixed JSON);
#      also GET /healthz on otcm (the HTTP layer alone, no database) and
#      GET /api/v1/assets?limit=1 (a read from PostgreSQL on every request)
#   2. a 20 MB version upload (multipart POST /api/v1/assets/{id}/versions)
#      against `git add && git commit` of the same file in a fresh local
#      repository, median over BENCH_RUNS runs (hyperfine)
#   3. the server's peak resident memory (VmHWM) after each phase
#   4. read-backs: one agent reads back BENCH_READBACK_ASSETS assets (default
#      1000) with the folder collector (bench/readback_bench.py)
#   5. bench/diff_bench.sh, when present
#   6. bench/git_bench.sh: git clone, no-op fetch and push against
#      `git http-backend` (BENCH_GIT=0 skips it)
#   7. bench/scale.sh: a year of a large plant (list and search latency,
#      reports, evidence, audit verify, size) against an empty database
#
# otcm runs on a temporary data folder with its embedded PostgreSQL cluster.
# Environment: BUILD (default build), BENCH_SECONDS (wrk duration, default
# 10), BENCH_RUNS (upload runs, default 5), BENCH_UPLOAD_MB (default 20),
# BENCH_DIFF=0 skips bench/diff_bench.sh, BENCH_GIT=0 bench/git_bench.sh,
# BENCH_READBACK=0 the read-back benchmark; BENCH_SCALE (default 1) is
# bench/scale.sh's SCALE, 0 skips it.
set -euo pipefail

cd "$(dirname "$0")/.."
. bench/lib.sh
BUILD=${BUILD:-build}
otcm=$BUILD/otcm
ref=$BUILD/bench/ref_server
seconds=${BENCH_SECONDS:-10}
runs=${BENCH_RUNS:-5}
upload_mb=${BENCH_UPLOAD_MB:-20}
threads=8   # otcm's --threads default, also given to the reference

for f in "$otcm" "$ref"; do
	[ -x "$f" ] || { echo "bench: $f is not built (run make bench)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otcm-bench.XXXXXX")
chmod 0755 "$tmp"
data=$tmp/data
mkdir -p "$data"
chmod 0755 "$data"
otcm_pid=""
ref_pid=""

cleanup() {
	[ -n "$ref_pid" ] && stop_pid "$ref_pid"
	[ -n "$otcm_pid" ] && stop_pid "$otcm_pid"
	stop_clusters "$data"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wrk_rps URL [HEADER]: requests/s, or "" when any answer was not 2xx/3xx
wrk_rps() {
	local url=$1 out
	if [ $# -gt 1 ]; then
		out=$(wrk -t2 -c32 -d"${seconds}s" -H "$2" "$url")
	else
		out=$(wrk -t2 -c32 -d"${seconds}s" "$url")
	fi
	echo "$out" >>"$tmp/wrk.log"
	if grep -q "Non-2xx or 3xx responses" <<<"$out"; then
		echo "bench: non-2xx answers from $url:" >&2
		grep "Non-2xx" <<<"$out" >&2
		echo ""
		return
	fi
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out"
}

# --- start otcm and the reference ------------------------------------------------

password="Bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
port=$(free_port)
base=http://127.0.0.1:$port
# wrk's connections all come from one address: lift the per-address limit above them
OTCM_ADMIN_PASSWORD=$password "$otcm" serve --data "$data" --listen "127.0.0.1:$port" \
	--threads "$threads" --max-connections-per-address 256 >"$tmp/otcm.out" 2>"$tmp/otcm.log" &
otcm_pid=$!
if ! wait_for_line "$tmp/otcm.out" "otcm: serving on" "$otcm_pid" 180; then
	echo "bench: otcm did not start; its log:" >&2
	tail -n 40 "$tmp/otcm.log" >&2
	exit 1
fi

ref_port=$(free_port)
"$ref" "127.0.0.1:$ref_port" "$threads" >"$tmp/ref.out" 2>&1 &
ref_pid=$!
wait_for_line "$tmp/ref.out" "serving on" "$ref_pid" 10 || { echo "bench: ref_server did not start" >&2; exit 1; }

echo "otcm bench: $(nproc) cores, wrk -t2 -c32 -d${seconds}s, $threads HTTP threads on both servers"
echo

# --- log in, make a token and an asset --------------------------------------------

token=""
asset_id=""
status=$(curl -s -o "$tmp/session.json" -w '%{http_code}' -c "$tmp/cookies" \
	-H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$password\"}" "$base/api/v1/session")
if [ "$status" = 200 ] || [ "$status" = 201 ]; then
	csrf=$(json_get "$tmp/session.json" csrf_token)
	status=$(curl -s -o "$tmp/token.json" -w '%{http_code}' -b "$tmp/cookies" -H "X-CSRF-Token: $csrf" \
		-H 'Content-Type: application/json' -d '{"name":"bench"}' "$base/api/v1/tokens")
	if [ "$status" = 201 ]; then
		token=$(json_get "$tmp/token.json" token)
	else
		echo "bench: POST /api/v1/tokens answered $status: asset benchmarks skipped" >&2
	fi
else
	echo "bench: POST /api/v1/session answered $status: asset benchmarks skipped" >&2
fi
auth="Authorization: Bearer $token"
if [ -n "$token" ]; then
	status=$(curl -s -o "$tmp/asset.json" -w '%{http_code}' -H "$auth" -H 'Content-Type: application/json' \
		-d '{"path":"bench/line-1/plc-1","type":"plc","vendor":"Rockwell Automation","model":"1756-L83E"}' "$base/api/v1/assets")
	if [ "$status" = 201 ]; then
		asset_id=$(json_get "$tmp/asset.json" id)
	else
		echo "bench: POST /api/v1/assets answered $status: asset benchmarks skipped" >&2
		head -c 400 "$tmp/asset.json" >&2
		echo >&2
	fi
fi

# --- 1. read throughput ---------------------------------------------------------

ref_rps=$(wrk_rps "http://127.0.0.1:$ref_port/")
health_rps=$(wrk_rps "$base/healthz")
asset_rps=""
list_rps=""
if [ -n "$asset_id" ]; then
	asset_rps=$(wrk_rps "$base/api/v1/assets/$asset_id" "$auth")
	# a read that goes to PostgreSQL every time (the asset list is not kept in memory)
	list_rps=$(wrk_rps "$base/api/v1/assets?limit=1" "$auth")
fi
hwm_read=$(vmhwm "$otcm_pid")

printf '%-44s %12s %10s\n' "read throughput" "requests/s" "ratio"
printf '%-44s %12s %10s\n' "reference: bare libmicrohttpd, fixed JSON" "${ref_rps:-n/a}" "1.000"
printf '%-44s %12s %10s\n' "otcm GET /healthz" "${health_rps:-n/a}" "$(ratio "$health_rps" "$ref_rps" 3)"
printf '%-44s %12s %10s\n' "otcm GET /api/v1/assets/{id} (bearer)" "${asset_rps:-n/a}" "$(ratio "$asset_rps" "$ref_rps" 3)"
printf '%-44s %12s %10s\n' "otcm GET /api/v1/assets?limit=1 (bearer, db)" "${list_rps:-n/a}" "$(ratio "$list_rps" "$ref_rps" 3)"
echo "otcm peak RSS after the read runs: $hwm_read"
echo

# --- 2. a large version upload against git --------------------------------------

# A deterministic L5X-like project: the same bytes on every machine and run.
python3 - "$tmp/Bench.L5X" "$upload_mb" <<'EOF'
import random, sys
path, mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(20240611)
target = mb * 1024 * 1024
ops = ["XIC", "XIO", "OTE", "OTL", "OTU", "TON", "CTU", "MOV", "ADD", "EQU", "GRT", "LES"]
with open(path, "w", encoding="utf-8") as f:
    f.write('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<RSLogix5000Content SchemaRevision="1.0" SoftwareRevision="33.00" '
            'TargetName="Bench" TargetType="Controller" ContainsContext="false">\n'
            '<Controller Use="Target" Name="Bench" ProcessorType="1756-L83E">\n<Programs>\n')
    size, prog = 0, 0
    while size < target:
        prog += 1
        f.write('<Program Name="P%04d" Type="Normal">\n<Routines>\n'
                '<Routine Name="Main" Type="RLL">\n<RLLContent>\n' % prog)
        for rung in range(200):
            text = " ".join("%s(T_%05d)" % (rng.choice(ops), rng.randrange(100000))
                            for _ in range(rng.randrange(2, 9)))
            line = ('<Rung Number="%d" Type="N">\n<Comment>\n<![CDATA[step %d of %d]]>\n'
                    '</Comment>\n<Text>\n<![CDATA[%s;]]>\n</Text>\n</Rung>\n'
                    % (rung, rung, prog, text))
            f.write(line)
            size += len(line)
        f.write('</RLLContent>\n</Routine>\n</Routines>\n</Program>\n')
    f.write('</Programs>\n</Controller>\n</RSLogix5000Content>\n')
EOF
file_size=$(stat -c %s "$tmp/Bench.L5X")
file_mib=$(awk -v s="$file_size" 'BEGIN { printf "%.1f", s / 1048576 }')

# each run changes the file a little, so that every upload is a real new version
cat >"$tmp/touch.sh" <<EOF
#!/bin/sh
printf '<!-- run %s -->\n' "\$(date +%s%N)" >>"$tmp/Bench.L5X"
EOF
cat >"$tmp/git-prepare.sh" <<EOF
#!/bin/sh
set -e
"$tmp/touch.sh"
rm -rf "$tmp/repo"
git init -q "$tmp/repo"
cp "$tmp/Bench.L5X" "$tmp/repo/Bench.L5X"
EOF
chmod +x "$tmp/touch.sh" "$tmp/git-prepare.sh"
git_cmd="git -C $tmp/repo -c user.name=bench -c user.email=bench@localhost add Bench.L5X && git -C $tmp/repo -c user.name=bench -c user.email=bench@localhost commit -q -m bench"
# the first upload is the asset's baseline on main; main then moves only by
# a change's release, so the timed uploads go to a work branch
upload_cmd="curl -sSf -o /dev/null -H '$auth' -F 'message=bench upload' -F 'branch=bench' -F 'files=@$tmp/Bench.L5X;filename=Bench.L5X' $base/api/v1/assets/$asset_id/versions"

upload_s=""
git_s=""
hyperfine --runs "$runs" --style none --export-json "$tmp/git.json" \
	--prepare "$tmp/git-prepare.sh" "$git_cmd" >/dev/null 2>&1 && git_s=$(median "$tmp/git.json")
if [ -n "$asset_id" ]; then
	"$tmp/touch.sh"
	status=$(curl -s -o "$tmp/version.json" -w '%{http_code}' -H "$auth" -F 'message=bench first upload' \
		-F "files=@$tmp/Bench.L5X;filename=Bench.L5X" "$base/api/v1/assets/$asset_id/versions")
	if [ "$status" = 201 ]; then
		if hyperfine --runs "$runs" --style none --export-json "$tmp/upload.json" \
			--prepare "$tmp/touch.sh" "$upload_cmd" >/dev/null 2>"$tmp/hyperfine.err"; then
			upload_s=$(median "$tmp/upload.json")
		else
			echo "bench: upload runs failed:" >&2
			tail -n 5 "$tmp/hyperfine.err" >&2
		fi
	else
		echo "bench: POST /api/v1/assets/{id}/versions answered $status: upload benchmark skipped" >&2
		head -c 400 "$tmp/version.json" >&2
		echo >&2
	fi
fi
hwm_upload=$(vmhwm "$otcm_pid")

printf '%-44s %12s %10s\n' "${file_mib} MiB L5X version, median of $runs" "seconds" "ratio"
printf '%-44s %12s %10s\n' "reference: git add && git commit" "${git_s:-n/a}" "1.000"
printf '%-44s %12s %10s\n' "otcm multipart upload (curl)" "${upload_s:-n/a}" "$(ratio "$upload_s" "$git_s" 3)"
echo "otcm peak RSS after the uploads: $hwm_upload"
echo

# --- 3. read-backs at plant scale (bench/readback_bench.py) ----------------------

if [ "${BENCH_READBACK:-1}" = 0 ]; then
	echo "read-back benchmark skipped (BENCH_READBACK=0)"
else
	OTCM_BIN=$(pwd)/$otcm python3 bench/readback_bench.py 2>/dev/null ||
		echo "bench: the read-back benchmark failed" >&2
fi
echo

# --- 4. diff benchmarks, when there are any -------------------------------------

if [ "${BENCH_DIFF:-1}" = 0 ]; then
	echo "diff benchmarks skipped (BENCH_DIFF=0)"
elif [ -x bench/diff_bench.sh ]; then
	BUILD=$BUILD bench/diff_bench.sh
elif [ -f bench/diff_bench.sh ]; then
	BUILD=$BUILD bash bench/diff_bench.sh
fi

# --- 4. git smart HTTP against git http-backend ------------------------------

echo
if [ "${BENCH_GIT:-1}" = 0 ]; then
	echo "git benchmarks skipped (BENCH_GIT=0)"
else
	BUILD=$BUILD bash bench/git_bench.sh
fi

# --- 5. a year of a large plant --------------------------------------------------

echo
if [ "${BENCH_SCALE:-1}" = 0 ]; then
	echo "scale benchmark skipped (BENCH_SCALE=0)"
else
	BUILD=$BUILD SCALE=${BENCH_SCALE:-1} bench/scale.sh
fi
