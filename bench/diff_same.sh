#!/bin/sh
# bench/diff_same.sh - the semantic diff gives byte-identical JSON with two
# builds of otcm: run `otcm diff OLD NEW --format json` over consecutive
# versions of every file in the corpus history (HISTORY.tsv) and over the
# corpus files diffed against nothing and against themselves, with both
# binaries, and report every pair whose output differs.  Use it before and
# after a change to the diff engine that must not change its results.
#
#   bench/diff_same.sh OLD_OTCM NEW_OTCM [MAX_PAIRS]
#
# OTCM_CORPUS names the corpus (default ../shared/corpus).  Exit status 1
# when any output differs.
set -eu

A=$1
B=$2
MAX=${3:-100000}
CORPUS=${OTCM_CORPUS:-../shared/corpus}
HIST="$CORPUS/HISTORY.tsv"

[ -f "$HIST" ] || { echo "diff_same: corpus history not found: $HIST (set OTCM_CORPUS)" >&2; exit 1; }
[ -x "$A" ] && [ -x "$B" ] || { echo "diff_same: both binaries must be executable" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# Consecutive versions of one file: "old<TAB>new" per line, then every file
# against an empty file (each side alone).
awk -F'\t' 'NR > 1 && $1 !~ /^group:/ {
	if ($1 == prev) print last "\t" $3
	prev = $1; last = $3 }' "$HIST" | head -n "$MAX" > "$TMP/pairs"
: > "$TMP/empty"
awk -F'\t' 'NR > 1 && $1 !~ /^group:/ { print $3 }' "$HIST" | sort -u | head -n "$MAX" |
	while read -r f; do printf '%s\t%s\n' "$TMP/empty" "$f"; done >> "$TMP/pairs"

n=0
bad=0
while IFS='	' read -r old new; do
	case $old in /*) o=$old ;; *) o="$CORPUS/$old" ;; esac
	case $new in /*) w=$new ;; *) w="$CORPUS/$new" ;; esac
	[ -f "$o" ] && [ -f "$w" ] || continue
	n=$((n + 1))
	"$A" diff "$o" "$w" --format json > "$TMP/a" 2>&1 || true
	"$B" diff "$o" "$w" --format json > "$TMP/b" 2>&1 || true
	if ! cmp -s "$TMP/a" "$TMP/b"; then
		bad=$((bad + 1))
		echo "diff_same: differs: $old -> $new"
	fi
done < "$TMP/pairs"
echo "diff_same: $n pairs, $bad differ"
[ "$bad" -eq 0 ]
