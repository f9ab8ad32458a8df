#!/bin/bash
# scripts/test.sh [unit|integration|e2e|all] - run otcm's tests and count them.
#
# Called by `make test`, `make unit`, `make integration` and `make e2e` after
# they have built what the tests need; BUILD names the build folder (build,
# or build/sanitize for a sanitizer build).
#
#   unit         every tests/unit/*/test_*.c binary under $BUILD/tests/unit,
#                with one throwaway PostgreSQL for the whole run exported as
#                OTCM_TEST_DATABASE_URL (storage tests need it)
#   integration  python3 unittest over tests/integration/test_*.py with
#                OTCM_BIN=$BUILD/otcm; each test class starts its own server
#                and its own embedded cluster (tests/integration/harness.py)
#   e2e          node tests in tests/e2e/*.mjs against a real browser (all but
#                harness.mjs, the setup they share)
#
# A stuck run is stopped: unit binaries after 600 s each, the integration run
# after OTCM_INTEGRATION_TIMEOUT (2400 s), the e2e run after OTCM_E2E_TIMEOUT
# (1200 s); a timeout counts as a failure.  Ends with one line
# "N passed, N failed[, N skipped][ (suites skipped: ...)]" and exits non-zero
# when anything failed.
#
# No suite is ever skipped silently: a suite that cannot run (no chromium or
# node for e2e) is a failure.  OTCM_SKIP_SUITES="e2e integration" skips the
# suites it names on purpose, and the summary line says which.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
what=${1:-all}

passed=0
failed=0
skipped=0
skipped_suites=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otcm-test.XXXXXX")
pgdir=""

cleanup() {
	if [ -n "$pgdir" ]; then
		scripts/pg-throwaway.sh stop "$pgdir" || true
		rm -rf "$pgdir"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Count one cmocka binary's output: "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s), listed below:".  A binary that dies before its
# summary, or whose exit status disagrees with it, counts one more failure.
count_cmocka() {
	local log=$1 rc=$2 p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

run_unit() {
	local srcs=() src bin rc log
	shopt -s nullglob
	srcs=(tests/unit/*/test_*.c)
	shopt -u nullglob
	if [ ${#srcs[@]} -eq 0 ]; then
		echo "unit: no tests"
		return
	fi
	pgdir=$(mktemp -d "${TMPDIR:-/tmp}/otcm-pg.XXXXXX")
	if ! OTCM_TEST_DATABASE_URL=$(scripts/pg-throwaway.sh start "$pgdir"); then
		echo "unit: could not start a throwaway PostgreSQL" >&2
		failed=$((failed + 1))
		return
	fi
	export OTCM_TEST_DATABASE_URL
	for src in "${srcs[@]}"; do
		bin=$BUILD/tests/unit/${src#tests/unit/}
		bin=${bin%.c}
		echo "== unit: $bin"
		if [ ! -x "$bin" ]; then
			echo "unit: $bin was not built (run make unit)" >&2
			failed=$((failed + 1))
			continue
		fi
		log=$tmp/unit.log
		timeout 600 "$bin" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		count_cmocka "$log" "$rc"
	done
	scripts/pg-throwaway.sh stop "$pgdir" || true
	rm -rf "$pgdir"
	pgdir=""
}

run_integration() {
	local log=$tmp/integration.log rc ran fails errs skips fixture_errs ran_ok
	if ! ls tests/integration/test_*.py >/dev/null 2>&1; then
		echo "integration: no tests"
		return
	fi
	# the simulated controller of the read-back tests (node-opcua), from npm's registry
	if [ -f tests/plant/package-lock.json ] && [ ! -d tests/plant/node_modules ]; then
		(cd tests/plant && npm ci --no-audit --no-fund) || { failed=$((failed + 1)); return; }
	fi
	echo "== integration: python3 -m unittest (OTCM_BIN=$BUILD/otcm)"
	OTCM_BIN=$(pwd)/$BUILD/otcm PYTHONUNBUFFERED=1 timeout "${OTCM_INTEGRATION_TIMEOUT:-2400}" \
		python3 -m unittest discover -s tests/integration -p 'test_*.py' -v 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	ran=$(sed -n 's/^Ran \([0-9][0-9]*\) tests\{0,1\} in .*/\1/p' "$log" | tail -n 1)
	fails=$(sed -n 's/^FAILED (.*failures=\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	errs=$(sed -n 's/^FAILED (.*errors=\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	skips=$(sed -n 's/^\(OK\|FAILED\) (.*skipped=\([0-9][0-9]*\).*/\2/p' "$log" | tail -n 1)
	ran=${ran:-0} fails=${fails:-0} errs=${errs:-0} skips=${skips:-0}
	# a failed setUpClass/tearDownClass is an error but not one of the tests ran
	fixture_errs=$(grep -cE '^ERROR: (setUp|tearDown)(Class|Module) ' "$log" || true)
	ran_ok=$((ran - fails - (errs - fixture_errs) - skips))
	[ "$ran_ok" -ge 0 ] || ran_ok=0
	passed=$((passed + ran_ok))
	failed=$((failed + fails + errs))
	skipped=$((skipped + skips))
	if [ "$rc" -ne 0 ] && [ $((fails + errs)) -eq 0 ]; then
		failed=$((failed + 1))
	fi
}

run_e2e() {
	local log=$tmp/e2e.log rc p f file files=()
	shopt -s nullglob
	for file in tests/e2e/*.mjs; do
		[ "$file" = tests/e2e/harness.mjs ] || files+=("$file")
	done
	shopt -u nullglob
	if [ ${#files[@]} -eq 0 ]; then
		echo "e2e: none yet"
		return
	fi
	if ! command -v chromium >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
		# `make test` installs them (scripts/deps.sh e2e): their absence is a failure
		echo "e2e: FAILED, no chromium or node (scripts/deps.sh e2e installs them;" \
			"OTCM_SKIP_SUITES=e2e skips the suite)" >&2
		failed=$((failed + 1))
		return
	fi
	if [ -f tests/e2e/package.json ] && [ ! -d tests/e2e/node_modules ]; then
		if [ -f tests/e2e/package-lock.json ]; then
			(cd tests/e2e && npm ci --no-audit --no-fund) || { failed=$((failed + 1)); return; }
		else
			(cd tests/e2e && npm install --no-audit --no-fund) || { failed=$((failed + 1)); return; }
		fi
	fi
	echo "== e2e: node --test tests/e2e"
	OTCM_BIN=$(pwd)/$BUILD/otcm timeout "${OTCM_E2E_TIMEOUT:-1200}" node --test --test-reporter=tap "${files[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

# Run suite $1 unless OTCM_SKIP_SUITES names it; a skip is counted and named.
suite() {
	case " $(echo "${OTCM_SKIP_SUITES:-}" | tr ',' ' ') " in
	*" $1 "*)
		echo "== $1: skipped (OTCM_SKIP_SUITES)"
		skipped=$((skipped + 1))
		skipped_suites="$skipped_suites $1"
		return
		;;
	esac
	"run_$1"
}

case $what in
unit | integration | e2e) suite "$what" ;;
all) suite unit; suite integration; suite e2e ;;
*) echo "usage: scripts/test.sh [unit|integration|e2e|all]" >&2; exit 2 ;;
esac

summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary="$summary, $skipped skipped"
[ -z "$skipped_suites" ] || summary="$summary (suites skipped:$skipped_suites)"
echo "$summary"
[ "$failed" -eq 0 ]
