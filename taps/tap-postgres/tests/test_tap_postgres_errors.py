"""tap-postgres --test and failures: each kind of error exits with the kit's code, one line."""

from __future__ import annotations

import socket

import pytest


def assert_fails(result, code: int, *phrases: str) -> None:
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    for phrase in phrases:
        assert phrase in last


@pytest.fixture
def table(pg, pg_schema: str) -> str:
    pg.execute(f'CREATE TABLE "{pg_schema}".t (id int PRIMARY KEY)')
    pg.execute(f'INSERT INTO "{pg_schema}".t SELECT generate_series(1, 3)')
    return f"{pg_schema}-t"


def test_test_mode_reads_one_record_per_stream(tap, table: str) -> None:
    result = tap.run("--test")
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in tap.records(tap.parse(result.stdout), table)] == [1]


@pytest.mark.parametrize(("wrong", "code"), [(False, 0), (True, 4)])
def test_password_is_checked(tap, private_postgres, wrong: bool, code: int) -> None:
    """Against the tests' private server (root conftest), which checks every password."""
    config = {**private_postgres, "filter_schemas": ["public"]}
    if wrong:
        config["password"] = "wrong-password"
    result = tap.run("--test", config=config)
    if code:
        assert_fails(result, code, "AuthenticationError", "password authentication failed")
    else:
        assert result.returncode == 0, result.stderr


def test_unknown_role_is_an_authentication_error(tap) -> None:
    result = tap.run("--test", config={**tap.config, "user": "no_such_role_here"})
    assert_fails(result, 4, "tap-postgres: AuthenticationError:", "no_such_role_here")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("mode", ["--test", "--discover"])
def test_unreachable_server_is_a_connection_error(tap, mode: str) -> None:
    port = free_port()
    result = tap.run(mode, config={**tap.config, "host": "127.0.0.1", "port": port})
    assert_fails(result, 3, "tap-postgres: ConnectionError:", f"127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        ({"database": "no_such_database_here"}, 'database "no_such_database_here" does not exist'),
        ({"port": "5432x"}, "config['port']"),
        ({"user": None}, "missing setting(s) user"),
        ({"ssl_enable": True}, "ssl_enable: use sqlalchemy_url with ?sslmode="),
        ({"sqlalchemy_url": "mysql://u:p@h/db"}, "must start with postgresql://"),
    ],
)
def test_bad_settings_are_configuration_errors(tap, change: dict, phrase: str) -> None:
    config = {key: value for key, value in {**tap.config, **change}.items() if value is not None}
    result = tap.run("--discover", config=config)
    assert_fails(result, 2, "tap-postgres: ConfigurationError:", phrase)


def test_sqlalchemy_url_is_parsed_and_the_session_is_fixed(tap, pg, pg_schema: str) -> None:
    pg.execute(
        f"""CREATE VIEW "{pg_schema}".session AS SELECT current_user AS usr,
            current_database() AS db, current_setting('application_name') AS app,
            current_setting('TimeZone') AS tz, current_setting('IntervalStyle') AS intervals,
            current_setting('transaction_read_only') AS read_only"""
    )
    config = tap.config
    url = (
        f"postgresql+psycopg2://{config['user']}:any%40pass@{config['host']}:{config['port']}"
        f"/{config['database']}?application_name=from-url"
    )
    (via_url,) = tap.records(
        tap.sync(config={"sqlalchemy_url": url, "filter_schemas": [pg_schema]})
    )
    assert via_url == {
        "usr": config["user"],
        "db": config["database"],
        "app": "from-url",
        "tz": "UTC",
        "intervals": "iso_8601",
        "read_only": "on",
    }
    (via_keys,) = tap.records(tap.sync())
    assert via_keys["app"] == "tap-postgres"
