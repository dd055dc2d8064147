#!/usr/bin/env bash
# Install everything the tests need (Debian packages, PostGIS, Chromium, Python packages) and run
# the whole suite against the embedded SQLite default AND PostGIS. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_pkgs=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_pkgs+=(postgresql)
dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1 || need_pkgs+=(postgresql-15-postgis-3)
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
command -v redis-server >/dev/null 2>&1 || need_pkgs+=(redis-server)
# Debian's own Python needs python3-venv for `python -m venv` (ensurepip); a pyenv/python.org build has it.
"$PY" -c 'import ensurepip' >/dev/null 2>&1 || need_pkgs+=(python3-venv)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# Start PostgreSQL when it is not answering.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  for v in $(ls /etc/postgresql 2>/dev/null); do
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

# Redis (shared rate limits across replicas) on 127.0.0.1:6379, started when it is not answering.
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
fi

# Tests connect over TCP as postgres without a password (trust, as on the CI machines). Where the
# server asks for a password (a stock Debian install), make a dedicated test superuser.
if [ -z "${GEO_SERVICE_TEST_PG:-}" ] && ! psql -h 127.0.0.1 -U postgres -w -c 'select 1' postgres >/dev/null 2>&1; then
  $SUDO -u postgres psql -q -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='geo_service_test') THEN CREATE ROLE geo_service_test LOGIN SUPERUSER PASSWORD 'geo_service_test'; END IF; END\$\$;" \
    || su postgres -c "psql -q -c \"CREATE ROLE geo_service_test LOGIN SUPERUSER PASSWORD 'geo_service_test'\"" || true
  export GEO_SERVICE_TEST_PG="postgresql+psycopg://geo_service_test:geo_service_test@127.0.0.1:5432/postgres"
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

.venv/bin/ruff check geo_service tests bench
exec .venv/bin/python -m pytest "$@"
