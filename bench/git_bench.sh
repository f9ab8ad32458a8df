#!/bin/bash
# bench/git_bench.sh - git smart HTTP against `git http-backend` serving the
# same repository (docs/benchmarks.md), each printed as a ratio measured in
# the same invocation:
#
#   1. `git clone --bare` of an asset with BENCH_GIT_VERSIONS (200) versions
#      of a 2 MiB L5X: otcm against git http-backend (bench/git_cgi.py, a small
#      CGI runner) serving a bare copy of the same history; otcm's first clone
#      (the pack built, and when its first progress line arrived) apart from
#      the later ones (the pack cached)
#   2. a no-op `git fetch` in a clone, against the same two
#   3. a `git push` of one 20 MiB version against a multipart upload of the
#      same file to POST /api/v1/assets/{id}/versions
#   4. otcm's peak resident memory before and after the clones
#
# Environment: BUILD (default build), BENCH_GIT_RUNS (default 3),
# BENCH_GIT_VERSIONS (200), BENCH_GIT_MB (2), BENCH_UPLOAD_MB (20).
set -euo pipefail

cd "$(dirname "$0")/.."
. bench/lib.sh
BUILD=${BUILD:-build}
otcm=$BUILD/otcm
runs=${BENCH_GIT_RUNS:-3}
versions=${BENCH_GIT_VERSIONS:-200}
file_mb=${BENCH_GIT_MB:-2}
upload_mb=${BENCH_UPLOAD_MB:-20}

[ -x "$otcm" ] || { echo "git bench: $otcm is not built (run make bench)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otcm-gitbench.XXXXXX")
chmod 0755 "$tmp"
data=$tmp/data
mkdir -p "$data"
chmod 0755 "$data"
otcm_pid=""
cgi_pid=""
export HOME=$tmp/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name bench
git config --global user.email bench@localhost
git config --global init.defaultBranch main

cleanup() {
	[ -n "$cgi_pid" ] && stop_pid "$cgi_pid"
	[ -n "$otcm_pid" ] && stop_pid "$otcm_pid"
	stop_clusters "$data"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the history: VERSIONS commits of one L5X, a few rungs edited in each ------

python3 - "$tmp/history.fi" "$versions" "$file_mb" <<'EOF'
import random, sys
out, versions, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261203)
ops = ["XIC", "XIO", "OTE", "OTL", "OTU", "TON", "CTU", "MOV", "ADD", "EQU", "GRT", "LES"]
rungs, size, prog = [], 0, 0
while size < mb * 1024 * 1024:
    prog += 1
    for r in range(200):
        text = " ".join("%s(T_%05d)" % (rng.choice(ops), rng.randrange(100000)) for _ in range(rng.randrange(2, 9)))
        line = ('<Rung Number="%d" Type="N">\n<Comment>\n<![CDATA[step %d of %d]]>\n</Comment>\n'
                '<Text>\n<![CDATA[%s;]]>\n</Text>\n</Rung>\n' % (r, r, prog, text))
        rungs.append(line)
        size += len(line)
head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<RSLogix5000Content SchemaRevision="1.0">\n'
        '<Controller Use="Target" Name="Bench" ProcessorType="1756-L83E">\n<Programs>\n<Program Name="P"><Routines>'
        '<Routine Name="Main" Type="RLL"><RLLContent>\n')
tail = '</RLLContent></Routine></Routines></Program>\n</Programs>\n</Controller>\n</RSLogix5000Content>\n'
with open(out, "wb") as f:
    for v in range(1, versions + 1):
        for _ in range(3):
            i = rng.randrange(len(rungs))
            rungs[i] = rungs[i].replace(";]]>", " OTE(V_%05d);]]>" % v, 1)
        blob = (head + "".join(rungs) + tail).encode()
        msg = b"version %d\n" % v
        f.write(b"commit refs/heads/main\ncommitter bench <bench@localhost> %d +0000\n" % (1700000000 + v))
        f.write(b"data %d\n%s" % (len(msg), msg))
        f.write(b"M 100644 inline Bench.L5X\ndata %d\n" % len(blob))
        f.write(blob)
        f.write(b"\n")
EOF
git init -q "$tmp/history"
git -C "$tmp/history" fast-import --quiet <"$tmp/history.fi"
rm -f "$tmp/history.fi"
mkdir -p "$tmp/ref"
git clone -q --bare "$tmp/history" "$tmp/ref/plc-1.git"
git -C "$tmp/ref/plc-1.git" gc -q
ref_pack=$(du -sk "$tmp/ref/plc-1.git/objects" | awk '{printf "%.1f MiB", $1 / 1024}')

# --- the two servers --------------------------------------------------------------

password="Bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
port=$(free_port)
base=http://127.0.0.1:$port
OTCM_ADMIN_PASSWORD=$password "$otcm" serve --data "$data" --listen "127.0.0.1:$port" \
	>"$tmp/otcm.out" 2>"$tmp/otcm.log" &
otcm_pid=$!
if ! wait_for_line "$tmp/otcm.out" "otcm: serving on" "$otcm_pid" 180; then
	echo "git bench: otcm did not start; its log:" >&2
	tail -n 40 "$tmp/otcm.log" >&2
	exit 1
fi
cgi_port=$(free_port)
python3 bench/git_cgi.py "$cgi_port" "$tmp/ref" >"$tmp/cgi.out" 2>&1 &
cgi_pid=$!
wait_for_line "$tmp/cgi.out" "serving on" "$cgi_pid" 10 || { echo "git bench: git_cgi.py did not start" >&2; exit 1; }

curl -s -o "$tmp/session.json" -c "$tmp/cookies" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$password\"}" "$base/api/v1/session"
csrf=$(json_get "$tmp/session.json" csrf_token)
curl -s -o "$tmp/token.json" -b "$tmp/cookies" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
	-d '{"name":"bench"}' "$base/api/v1/tokens"
token=$(json_get "$tmp/token.json" token)
auth="Authorization: Bearer $token"
curl -s -o "$tmp/asset.json" -H "$auth" -H 'Content-Type: application/json' \
	-d '{"path":"bench/git/plc-1","type":"plc"}' "$base/api/v1/assets"
asset_id=$(json_get "$tmp/asset.json" id)
[ -n "$asset_id" ] || { echo "git bench: could not create the asset" >&2; exit 1; }
otcm_url="http://admin:$token@127.0.0.1:$port/git/bench/git/plc-1.git"
ref_url="http://127.0.0.1:$cgi_port/git/plc-1.git"

echo "git smart HTTP: $versions versions of a $(git -C "$tmp/history" cat-file -s main:Bench.L5X | awk '{printf "%.1f", $1/1048576}') MiB L5X (git's packed repository: $ref_pack), median of $runs"

# the history into otcm, through git itself: a work branch (main moves only by release)
start=$(date +%s.%N)
if ! git -C "$tmp/history" push -q "$otcm_url" main:work/bench 2>"$tmp/push.err"; then
	echo "git bench: the initial push failed:" >&2
	tail -n 5 "$tmp/push.err" >&2
	exit 1
fi
push_all_s=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
hwm_before=$(vmhwm "$otcm_pid")

# --- 1. clone ------------------------------------------------------------------------

clone_s="" ref_clone_s="" cold_s="" first_s=""
hyperfine --runs "$runs" --style none --export-json "$tmp/ref_clone.json" \
	--prepare "rm -rf $tmp/c" "git clone -q --bare $ref_url $tmp/c" >/dev/null 2>&1 &&
	ref_clone_s=$(median "$tmp/ref_clone.json")
# the first clone builds the pack (libgit2's packbuilder); later ones find it cached
rm -rf "$tmp/c"
# timed from the client: the whole clone, and when its first "remote:" progress arrived
# (the pack is streamed while it is built, docs/git.md)
read -r cold_s first_s < <(python3 - "$otcm_url" "$tmp/c" 2>"$tmp/clone.err" <<'PY' || true
import subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(["git", "clone", "--progress", "--bare", sys.argv[1], sys.argv[2]],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
first = None
while True:
    b = p.stderr.read1(4096)
    if not b:
        break
    if first is None and b"remote:" in b:
        first = time.monotonic() - t0
rc = p.wait()
if rc:
    sys.exit(rc)
print("%.3f %.3f" % (time.monotonic() - t0, first if first is not None else -1))
PY
) || true
hwm_cold=$(vmhwm "$otcm_pid")
hyperfine --runs "$runs" --style none --export-json "$tmp/clone.json" \
	--prepare "rm -rf $tmp/c" "git clone -q --bare $otcm_url $tmp/c" >/dev/null 2>"$tmp/clone.err" &&
	clone_s=$(median "$tmp/clone.json") || tail -n 5 "$tmp/clone.err" >&2
hwm_clone=$(vmhwm "$otcm_pid")
otcm_pack=$(du -sk "$tmp/c/objects" 2>/dev/null | awk '{printf "%.1f MiB", $1 / 1024}')

# --- 2. no-op fetch --------------------------------------------------------------------

git clone -q "$ref_url" "$tmp/fr"
git clone -q -b work/bench "$otcm_url" "$tmp/fo"
ref_fetch_s="" fetch_s=""
hyperfine --runs $((runs * 3)) --style none --export-json "$tmp/ref_fetch.json" \
	"git -C $tmp/fr fetch -q origin" >/dev/null 2>&1 && ref_fetch_s=$(median "$tmp/ref_fetch.json")
hyperfine --runs $((runs * 3)) --style none --export-json "$tmp/fetch.json" \
	"git -C $tmp/fo fetch -q origin" >/dev/null 2>&1 && fetch_s=$(median "$tmp/fetch.json")

# --- 3. a 20 MiB version: git push against the upload endpoint -------------------------

python3 - "$tmp/Big.L5X" "$upload_mb" <<'EOF'
import random, sys
rng = random.Random(20240611)
with open(sys.argv[1], "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<RSLogix5000Content>\n')
    size = 0
    while size < int(sys.argv[2]) * 1024 * 1024:
        line = '<Rung><Text><![CDATA[XIC(T_%05d)OTE(T_%05d);]]></Text></Rung>\n' % (rng.randrange(100000), rng.randrange(100000))
        f.write(line)
        size += len(line)
    f.write('</RSLogix5000Content>\n')
EOF
cat >"$tmp/push-prepare.sh" <<EOF
#!/bin/sh
set -e
printf '<!-- run %s -->\n' "\$(date +%s%N)" >>"$tmp/Big.L5X"
cp "$tmp/Big.L5X" "$tmp/fo/Big.L5X"
git -C "$tmp/fo" add Big.L5X
git -C "$tmp/fo" commit -q -m "a large version"
EOF
cat >"$tmp/touch.sh" <<EOF
#!/bin/sh
printf '<!-- run %s -->\n' "\$(date +%s%N)" >>"$tmp/Big.L5X"
EOF
chmod +x "$tmp/push-prepare.sh" "$tmp/touch.sh"
push_s="" upload_s=""
hyperfine --runs "$runs" --style none --export-json "$tmp/push.json" --prepare "$tmp/push-prepare.sh" \
	"git -C $tmp/fo push -q origin HEAD:work/bench" >/dev/null 2>"$tmp/push.err" &&
	push_s=$(median "$tmp/push.json") || tail -n 5 "$tmp/push.err" >&2
hyperfine --runs "$runs" --style none --export-json "$tmp/upload.json" --prepare "$tmp/touch.sh" \
	"curl -sSf -o /dev/null -H '$auth' -F 'message=bench upload' -F 'branch=bench-upload' -F 'files=@$tmp/Big.L5X;filename=Big.L5X' $base/api/v1/assets/$asset_id/versions" \
	>/dev/null 2>&1 && upload_s=$(median "$tmp/upload.json")
hwm_push=$(vmhwm "$otcm_pid")

printf '%-52s %10s %10s %8s\n' "git smart HTTP" "reference" "otcm" "ratio"
printf '%-52s %10s %10s %8s\n' "first git clone --bare, seconds (pack built)" "${ref_clone_s:-n/a}" "${cold_s:-n/a}" "$(ratio "$cold_s" "$ref_clone_s")"
printf '%-52s %10s %10s\n' "  its first progress line, seconds" "" "${first_s:-n/a}"
printf '%-52s %10s %10s %8s\n' "git clone --bare, seconds (pack cached)" "${ref_clone_s:-n/a}" "${clone_s:-n/a}" "$(ratio "$clone_s" "$ref_clone_s")"
printf '%-52s %10s %10s %8s\n' "no-op git fetch, seconds" "${ref_fetch_s:-n/a}" "${fetch_s:-n/a}" "$(ratio "$fetch_s" "$ref_fetch_s")"
printf '%-52s %10s %10s %8s\n' "${upload_mb} MiB version: upload vs git push, seconds" "${upload_s:-n/a}" "${push_s:-n/a}" "$(ratio "$push_s" "$upload_s")"
echo "pushing the whole history into otcm once: ${push_all_s} s; the clone's objects: ${otcm_pack:-n/a} (git's: $ref_pack)"
echo "otcm peak RSS: ${hwm_before} before the clones, ${hwm_cold} after the first, ${hwm_clone} after the cached ones, ${hwm_push} after the pushes"
