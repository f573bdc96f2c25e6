#!/usr/bin/env bash
# Tell whether the Postgres server the tests use is reachable (called by `make test`).
# The tests read it from one setting, DATIVO_TEST_PG_DSN (default below), and never change
# its roles or authentication: tests that need a password checked start a private instance
# (initdb/pg_ctl on their own port, see the `private_postgres` fixture in conftest.py).
set -euo pipefail
dsn=${DATIVO_TEST_PG_DSN:-"host=127.0.0.1 port=5432 user=postgres dbname=postgres"}
if ! psql "$dsn" -Atqc "select 1" >/dev/null 2>&1; then
  echo "postgres-test-setup: Postgres is not reachable at '$dsn'; tests that need it skip" \
       "(or fail when CI=true)" >&2
fi
