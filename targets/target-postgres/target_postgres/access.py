"""``--test``: connect, and check that this role may create and write the target's tables,
writing nothing."""

from __future__ import annotations

import typing as t
from contextlib import closing

from dativo_connector_kit import AuthenticationError

if t.TYPE_CHECKING:
    from target_postgres.settings import Settings

_PRIVILEGES = """
select current_user, current_database(), current_setting('transaction_read_only') = 'on',
       n.nspname is not null,
       coalesce(has_schema_privilege(n.oid, 'CREATE') and has_schema_privilege(n.oid, 'USAGE'),
                has_database_privilege(current_database(), 'CREATE'))
from (select %s::text as name) wanted
left join pg_namespace n on n.nspname = wanted.name
"""


def check_access(settings: Settings) -> str:
    """Raise ``AuthenticationError`` when the role cannot create tables in the target schema
    (or create that schema); connection failures raise the loader's errors."""
    from target_postgres.loader import Loader  # psycopg: not imported for --about

    schema = settings.default_target_schema or "public"
    with closing(Loader.connect(settings)) as loader, loader.connection.cursor() as cursor:
        cursor.execute(_PRIVILEGES, (schema,))
        row = cursor.fetchone()
    assert row is not None  # the query always returns one row
    role, database, read_only, exists, may_create = row
    where = f"database {database!r} as role {role!r}"
    if read_only:
        raise AuthenticationError(f"{where}: the server only accepts read-only transactions")
    if not may_create:
        missing = "CREATE and USAGE on schema" if exists else "CREATE on the database for schema"
        raise AuthenticationError(f"{where}: the role lacks {missing} {schema!r}")
    return f"{where} may create and write tables in schema {schema!r}"
