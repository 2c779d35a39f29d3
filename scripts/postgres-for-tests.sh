#!/usr/bin/env bash
# Make sure a local PostgreSQL runs for the test suite and print its URL.
# Installs Debian's postgresql when missing (CI is a fresh machine), starts
# the cluster, creates the role and database 'proforient_test'. Idempotent.
set -euo pipefail
# Only the URL may reach stdout: the tools' chatter goes to stderr
# (pg_ctlcluster prints "Removed stale pid file." on stdout).
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "postgres-for-tests: installing postgresql" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$ver main"; then
  $SUDO pg_createcluster "$ver" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^$ver main .* online"; then
  $SUDO pg_ctlcluster "$ver" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
psql_as_postgres() { $SUDO runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_as_postgres -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'proforient') THEN
    CREATE ROLE proforient LOGIN PASSWORD 'proforient' CREATEDB;
  END IF; END \$\$;" >/dev/null
if [ -z "$(psql_as_postgres -c "SELECT 1 FROM pg_database WHERE datname = 'proforient_test'")" ]; then
  psql_as_postgres -c "CREATE DATABASE proforient_test OWNER proforient" >/dev/null
fi
echo "postgresql+psycopg://proforient:proforient@127.0.0.1:$port/proforient_test"
