# bench/lib.sh - what the benchmark scripts share; sourced, never run.

# stop_pid PID: SIGTERM, then SIGKILL after 30 s; reaps it.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# stop_clusters DIR: a PostgreSQL left running under DIR by a server that had to be killed
stop_clusters() {
	local pidfile pm
	for pidfile in $(find "$1" -name postmaster.pid 2>/dev/null); do
		pm=$(head -n 1 "$pidfile")
		if [ -n "$pm" ] && grep -q '^postgres' "/proc/$pm/comm" 2>/dev/null; then
			kill -QUIT "$pm" 2>/dev/null || true
		fi
	done
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# json_get FILE KEY: a top-level string or number from a JSON file ("" if absent)
json_get() {
	python3 -c 'import json,sys
try:
    v = json.load(open(sys.argv[1])).get(sys.argv[2], "")
except Exception:
    v = ""
print(v)' "$1" "$2"
}

# wait_for_line FILE PATTERN PID SECONDS: until FILE holds PATTERN; 1 when PID died or time ran out
wait_for_line() {
	local file=$1 pattern=$2 pid=$3 limit=$4 i
	for i in $(seq 1 $((limit * 10))); do
		grep -q "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# vmhwm PID: the process's peak resident memory, "12.3 MiB"
vmhwm() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null | awk '{printf "%.1f MiB", $1 / 1024}'
}

# ratio A B [DIGITS]: A / B with DIGITS decimals (2), "n/a" when either is missing or B is 0
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.*f", d, a / b }'
}

# median FILE: the median of hyperfine's first result in its JSON export
median() {
	python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}
