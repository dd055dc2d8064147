#!/usr/bin/env bash
# Set up and start geo_service on the embedded SQLite default with the bundled Bali boundaries.
# Usage: scripts/run.sh [--host H] [--port P]   (default http://127.0.0.1:8000)
# First run: makes .venv, installs the package, creates an admin token, a page user "admin" and
# demo incidents (marked [DEMO]) and a month of demo 110 calls for every Polda (remove both with
# `.venv/bin/geo-service demo clear`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export GEO_SERVICE_DATA_DIR=${GEO_SERVICE_DATA_DIR:-$PWD/instance}
if [ ! -x .venv/bin/python ]; then
  # Debian's own Python needs python3-venv for `python -m venv` (ensurepip); a pyenv/python.org build has it.
  if ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
    SUDO=""; if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
  fi
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
mkdir -p "$GEO_SERVICE_DATA_DIR"
umask 077
.venv/bin/geo-service db upgrade
if [ ! -s "$GEO_SERVICE_DATA_DIR/admin-token.txt" ]; then
  .venv/bin/geo-service token create --role admin --name first-admin | tail -n 1 > "$GEO_SERVICE_DATA_DIR/admin-token.txt"
  echo "API admin token: $GEO_SERVICE_DATA_DIR/admin-token.txt"
fi
if [ ! -s "$GEO_SERVICE_DATA_DIR/admin-password.txt" ]; then
  .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))' > "$GEO_SERVICE_DATA_DIR/admin-password.txt"
  .venv/bin/geo-service user create --username admin --role admin --password-stdin < "$GEO_SERVICE_DATA_DIR/admin-password.txt"
  echo "page login: admin / password in $GEO_SERVICE_DATA_DIR/admin-password.txt"
fi
if [ ! -e "$GEO_SERVICE_DATA_DIR/.demo-seeded" ]; then
  .venv/bin/geo-service demo seed --calls && touch "$GEO_SERVICE_DATA_DIR/.demo-seeded"
fi
exec .venv/bin/geo-service serve "$@"
