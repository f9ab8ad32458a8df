#!/bin/sh
# scripts/deps.sh GROUP... - make sure the Debian packages a task needs are installed.
#
# Groups: build, run, test, bench, e2e, lint (OpenAPI lint through npx).  Checks each package with dpkg-query
# and prints nothing when all are present (no apt call, so it is fast).  When
# some are missing: as root, runs `apt-get update` once and installs them
# without recommends; otherwise prints the exact command to run and exits 1.
set -eu

pkgs_build="gcc make pkg-config libmicrohttpd-dev libgit2-dev libpq-dev libssl-dev
	libjansson-dev libxml2-dev libarchive-dev libcmocka-dev libcurl4-openssl-dev
	libldap-dev"
# postgresql-15 carries /usr/lib/postgresql/15/bin/{initdb,postgres,pg_ctl}
pkgs_run="postgresql-15 git"
# clang -fsanitize=fuzzer links libclang_rt.fuzzer, which only libclang-rt-14-dev
# ships (clang merely recommends it, and we install without recommends)
# systemd: systemd-analyze checks the installed unit (tests/integration/test_packaging.py);
# pgbackrest: the WAL archiving and point-in-time recovery of docs/operations.md;
# rsyslog, rsyslog-openssl: the syslog collector the SIEM delivery is tested against, over TCP
# and TLS (tests/integration/test_syslog.py); jq: a sample archive's README.txt redoes the
# draw with jq and coreutils, and tests/integration/test_samples.py runs it;
# slapd, ldap-utils: the directory LDAP login is tested against (tests/integration/test_ldap.py)
# nodejs, npm: the simulated OPC UA controller of the read-back tests (tests/plant, node-opcua)
pkgs_test="python3 git curl zip unzip tar clang libclang-rt-14-dev systemd pgbackrest rsyslog rsyslog-openssl jq
	slapd ldap-utils nodejs npm"
pkgs_bench="wrk hyperfine time curl openssl git"
pkgs_e2e="chromium nodejs npm"
pkgs_lint="nodejs npm"

if [ $# -eq 0 ]; then
	echo "usage: scripts/deps.sh GROUP...  (build, run, test, bench, e2e, lint)" >&2
	exit 2
fi

want=""
for group in "$@"; do
	case $group in
	build) want="$want $pkgs_build" ;;
	run) want="$want $pkgs_run" ;;
	test) want="$want $pkgs_test" ;;
	bench) want="$want $pkgs_bench" ;;
	e2e) want="$want $pkgs_e2e" ;;
	lint) want="$want $pkgs_lint" ;;
	*) echo "deps: unknown group '$group'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	# a Node.js installed from elsewhere bundles npm and conflicts with Debian's npm
	case $p in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	esac
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages; install them with:" >&2
	echo "sudo apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "deps: installing$missing" >&2
log=$(mktemp "${TMPDIR:-/tmp}/otcm-deps.XXXXXX")
if apt-get update >"$log" 2>&1 &&
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >>"$log" 2>&1; then
	rm -f "$log"
else
	cat "$log" >&2
	rm -f "$log"
	echo "deps: installing$missing failed" >&2
	exit 1
fi
