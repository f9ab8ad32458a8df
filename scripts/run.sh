#!/bin/sh
# scripts/run.sh BIN - what `make run` does once BIN is built: serve from var/.
# On first start the server creates its private PostgreSQL cluster under var/,
# migrates it, creates the administrator and prints the one-time password.
set -eu
[ $# -eq 1 ] || { echo "usage: scripts/run.sh BIN" >&2; exit 2; }
exec "$1" serve --data var --listen "${OTCM_LISTEN:-127.0.0.1:8080}"
