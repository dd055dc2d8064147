#!/usr/bin/env bash
# Set up and start geo_service on the embedded SQLite default with the bundled Bali boundaries.
# Usage: scripts/run.sh [--host H] [--port P]   (default http://127.0.0.1:8000)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
if [ ! -s instance/admin-token.txt ]; then
  mkdir -p instance
  # A first admin token so the API and pages can be used at once (kept 0600 in the data dir).
  umask 077
  .venv/bin/geo-service token create --role admin --name first-admin | tail -n 1 > instance/admin-token.txt
  echo "admin token written to instance/admin-token.txt"
fi
exec .venv/bin/geo-service serve "$@"
