#!/bin/sh
# bench/diff_bench.sh - the semantic diff of two ~50 MB L5X files beside
# `git diff --no-index` on the same pair: wall time ratio and peak memory.
#
# The files are generated here from a corpus export by replicating one
# program with new names; the newer file carries a few real edits (a rung
# changed, a tag value changed, a rung inserted).  Nothing is written to
# the repository.  Set DIFF_BENCH_MB for another size, OTCM_CORPUS for the
# corpus location, BUILD for the build folder.
set -eu

BUILD=${BUILD:-build}
CORPUS=${OTCM_CORPUS:-../shared/corpus}
MB=${DIFF_BENCH_MB:-50}
SRC="$CORPUS/l5x/tnunnink__L5Sharp/tests/L5Sharp.Tests.Samples/Projects/Test.L5X"
OTCM="$BUILD/otcm"

[ -f "$SRC" ] || { echo "diff_bench: corpus file not found: $SRC (set OTCM_CORPUS)" >&2; exit 1; }
[ -x "$OTCM" ] || { echo "diff_bench: $OTCM not built (run make)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "diff_bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# gen EDIT OUT: the export with MainProgram replicated to about $MB MB.
gen() {
	tr -d '\r' < "$SRC" | awk -v target=$((MB * 1024 * 1024)) -v edit="$1" '
	/^<Program Name="MainProgram"/ { inblock = 1 }
	inblock { block = block $0 "\n" }
	/^<\/Program>/ && inblock { inblock = 0 }
	{ lines[++n] = $0; size += length($0) + 1 }
	END {
		copies = int((target - size) / length(block)) + 1
		for (i = 1; i <= n; i++) {
			if (lines[i] == "</Programs>") {
				for (c = 1; c <= copies; c++) {
					b = block
					gsub(/Name="MainProgram"/, "Name=\"MainProgram_" c "\"", b)
					if (edit && c == 7)
						sub(/MOVE\(16#20,SimpleSint\);/, "MOVE(16#21,SimpleSint);", b)
					if (edit && c == int(copies / 2))
						sub(/Name="SourceA" DataType="REAL" Radix="Float" Value="0.0"/,
						    "Name=\"SourceA\" DataType=\"REAL\" Radix=\"Float\" Value=\"1.5\"", b)
					if (edit && c == copies - 3)
						sub(/<Rung Number="3" Type="N">/,
						    "<Rung Number=\"3\" Type=\"N\">\n<Text>\n<![CDATA[NOP();]]>\n</Text>\n</Rung>\n<Rung Number=\"4\" Type=\"N\">", b)
					printf "%s", b
				}
			}
			print lines[i]
		}
	}' > "$2"
}

gen 0 "$TMP/old.L5X"
gen 1 "$TMP/new.L5X"

# run NAME CMD...: time one command (exit 1 from a differing diff is fine)
run() {
	name=$1
	shift
	/usr/bin/time -v "$@" > "$TMP/$name.out" 2> "$TMP/$name.time" || true
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		print s }' "$TMP/$name.time")
	kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/$name.time")
	eval "${name}_secs=\$secs ${name}_kb=\$kb"
}

run otcm "$OTCM" diff "$TMP/old.L5X" "$TMP/new.L5X" --format json
run git git diff --no-index --stat=200 "$TMP/old.L5X" "$TMP/new.L5X"

changes=$(grep -c '"kind"' "$TMP/otcm.out" || true)
printf 'diff_bench: old %s bytes, new %s bytes, %s semantic changes\n' \
	"$(wc -c < "$TMP/old.L5X")" "$(wc -c < "$TMP/new.L5X")" "$changes"
printf 'diff_bench: otcm diff      %8.2f s  peak %8d KB\n' "$otcm_secs" "$otcm_kb"
printf 'diff_bench: git diff       %8.2f s  peak %8d KB\n' "$git_secs" "$git_kb"
awk -v a="$otcm_secs" -v b="$git_secs" -v ma="$otcm_kb" -v mb="$git_kb" 'BEGIN {
	if (b < 0.01) b = 0.01
	printf "diff_bench: time ratio otcm/git %.2f, memory ratio otcm/git %.2f\n", a / b, ma / mb }'
