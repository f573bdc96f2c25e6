"""Every supported Postgres type, read back from the tap's output exactly."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

BIG_NUMERIC = "12345678901234567890.123456789"


@pytest.fixture
def typed(pg, pg_schema: str) -> str:
    pg.execute(
        f"""
        SET search_path TO "{pg_schema}";
        CREATE TYPE mood AS ENUM ('sad', 'happy');
        CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
        CREATE TABLE typed (
            id integer PRIMARY KEY,
            i2 smallint, i8 bigint, num numeric, num_scaled numeric(12, 3), f4 real,
            f8 double precision, cash money, flag boolean, body text, code varchar(10),
            fixed char(3), uid uuid, ts timestamp, tstz timestamptz, day date, clock time,
            clock_tz timetz, span interval, doc json, docb jsonb, words text[], ints int[],
            blob bytea, blobs bytea[], feeling mood, dom positive, addr inet, bits bit(4),
            "Mixed Case-Name" text
        );
        INSERT INTO typed VALUES (
            1, -32768, 9223372036854775807, {BIG_NUMERIC}, 1.500, 0.1, 0.1, 1234.56,
            true, E'line1\\nline2\\t"quoted" \\\\ back', 'abc', 'ab',
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
            '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.123456+02', '2024-02-29',
            '13:14:15.5', '13:14:15+05:30', '1 year 2 months 3 days 04:05:06.5',
            E'{{"a" :\\n [1, 2],\\r\\n "b": "x\\\\ny"}}', '{{"k": {{"n": [1, null, "x"]}}}}',
            ARRAY['x', NULL, 'y"z'], ARRAY[1, NULL, 3], '\\x000102ff'::bytea,
            ARRAY['\\x01'::bytea, NULL], 'happy', 7, '192.168.0.1/24', B'1010', 'odd'
        ), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, 'null', '[1, 2]', '{{}}', '{{}}', '', '{{}}', NULL, NULL,
            NULL, NULL, NULL);
        RESET search_path;
        """
    )
    return f"{pg_schema}-typed"


def test_every_type_round_trips(tap, typed: str) -> None:
    result = tap.run()
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if '"type":"RECORD"' in line]
    assert len(lines) == 2  # one line each: the json value's line breaks did not split it
    assert f'"num":{BIG_NUMERIC},' in lines[0]  # the exact literal, never through a float

    first, second = tap.records(tap.parse(result.stdout))
    assert first == {
        "id": 1,
        "i2": -32768,
        "i8": 9223372036854775807,
        "num": Decimal(BIG_NUMERIC),
        "num_scaled": Decimal("1.500"),
        "f4": Decimal("0.1"),
        "f8": Decimal("0.1"),
        "cash": Decimal("1234.56"),
        "flag": True,
        "body": 'line1\nline2\t"quoted" \\ back',
        "code": "abc",
        "fixed": "ab ",
        "uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "ts": "2024-02-29T13:14:15.123456",
        "tstz": "2024-02-29T11:14:15.123456+00:00",
        "day": "2024-02-29",
        "clock": "13:14:15.5",
        "clock_tz": "13:14:15+05:30",
        "span": "P1Y2M3DT4H5M6.5S",
        "doc": {"a": [1, 2], "b": "x\ny"},
        "docb": {"k": {"n": [1, None, "x"]}},
        "words": ["x", None, 'y"z'],
        "ints": [1, None, 3],
        "blob": base64.b64encode(b"\x00\x01\x02\xff").decode(),
        "blobs": ["AQ==", None],
        "feeling": "happy",
        "dom": 7,
        "addr": "192.168.0.1/24",
        "bits": "1010",
        "Mixed Case-Name": "odd",
    }
    assert second["doc"] is None  # JSON null
    assert second["docb"] == [1, 2]
    assert second["words"] == second["ints"] == second["blobs"] == []
    assert second["blob"] == ""
    not_null = {"id", "docb", "words", "ints", "blob", "blobs"}
    assert {key for key, value in second.items() if value is None} == set(first) - not_null


def test_long_bytea_is_one_base64_string(tap, pg, pg_schema: str) -> None:
    data = bytes(range(256)) * 4  # encode() would wrap this at 76 characters
    pg.execute(f'CREATE TABLE "{pg_schema}".blobs (id int PRIMARY KEY, data bytea)')
    pg.execute(f'INSERT INTO "{pg_schema}".blobs VALUES (1, %s)', (data,))
    (record,) = tap.records(tap.sync())
    assert base64.b64decode(record["data"], validate=True) == data
