#!/usr/bin/env bash
# Prepare the local Postgres for the test suite (called by `make test`; idempotent).
# The machine's server trusts every local connection, so no password is ever checked. Tests of
# "bad password" need one role that really checks it: `dativo_pw` (password `dativo-pw-test`),
# authenticated with scram-sha-256 on 127.0.0.1.
set -euo pipefail
psql_admin() { psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc "$1"; }

if ! psql_admin "select 1" >/dev/null 2>&1; then
  echo "postgres-test-setup: Postgres is not reachable at 127.0.0.1:5432; skipping" >&2
  exit 0
fi
psql_admin "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dativo_pw') THEN
    CREATE ROLE dativo_pw LOGIN PASSWORD 'dativo-pw-test';
  END IF;
END \$\$; GRANT ALL ON DATABASE postgres TO dativo_pw; GRANT CREATE ON SCHEMA public TO dativo_pw"

hba=$(psql_admin "show hba_file")
rule="host all dativo_pw 127.0.0.1/32 scram-sha-256"
if [ -w "$hba" ] && ! grep -qxF "$rule" "$hba"; then
  sed -i "1i $rule" "$hba"   # the first matching line wins, so it goes before the trust rules
  psql_admin "select pg_reload_conf()" >/dev/null
fi
