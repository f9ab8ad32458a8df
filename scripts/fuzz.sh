#!/bin/bash
# scripts/fuzz.sh FUZZ_BIN... - run each libFuzzer target briefly (`make fuzz-run`).
#
# Each target runs FUZZ_SECONDS (default 20) with inputs up to FUZZ_MAX_LEN
# bytes (default 65536) on a corpus in build/fuzz/corpus-<name>, seeded from
# tests/fuzz/seeds/<name>/ when that folder exists.  A crash, leak or
# sanitizer report leaves the reproducer in build/fuzz/ and fails the run.
set -uo pipefail

cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
max_len=${FUZZ_MAX_LEN:-65536}

if [ $# -eq 0 ]; then
	echo "fuzz: no fuzz targets yet"
	exit 0
fi

failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=build/fuzz/corpus-$name
	mkdir -p "$corpus"
	seeds=()
	if [ -d "tests/fuzz/seeds/$name" ]; then
		seeds=("tests/fuzz/seeds/$name")
	fi
	echo "== fuzz: $name for ${seconds}s"
	if "$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="build/fuzz/$name-" "$corpus" "${seeds[@]}" \
		>"build/fuzz/$name.log" 2>&1; then
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "build/fuzz/$name.log" || true
	else
		echo "fuzz: $name failed; the end of build/fuzz/$name.log:" >&2
		tail -n 60 "build/fuzz/$name.log" >&2
		failed=$((failed + 1))
	fi
done
echo "fuzz: $(($# - failed)) of $# targets ran clean"
[ "$failed" -eq 0 ]
