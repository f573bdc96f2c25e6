"""Compact RECORD lines (as taps write them) take target-postgres's compact path; whatever a
line holds, the table ends up as the general path makes it, and errors name line and field."""

from __future__ import annotations

PROPERTIES = {
    "id": {"type": "integer"},
    "big": {"type": ["number", "null"], "x-sql-datatype": "numeric(30,10)"},
    "small": {"type": ["number", "null"], "x-sql-datatype": "numeric(7,2)"},
    "free": {"type": ["number", "null"], "x-sql-datatype": "numeric"},
    "ratio": {"type": ["number", "null"]},
    "ok": {"type": ["boolean", "null"]},
    "name": {"type": ["string", "null"]},
    "at": {"type": ["string", "null"], "format": "date-time"},
    "local": {"type": ["string", "null"], "x-sql-datatype": "timestamp without time zone"},
    "day": {"type": ["string", "null"], "format": "date"},
    "uid": {"type": ["string", "null"], "x-sql-datatype": "uuid"},
    "span": {"type": ["string", "null"], "x-sql-datatype": "interval"},
    "doc": {},
}
# Hand-written record JSON: exact number literals, escapes, values of unusual JSON types (which
# send the line to the general path), fields left out, a field the schema lacks.
RECORDS = [
    '{"id":1,"big":12345678901234567890.1234567890,"small":12345.10,"free":1E-30,'
    '"ratio":0.1,"ok":true,"name":"tab\\there \\"q\\" back\\\\slash \\u00e9 \\/ \\n","at":'
    '"2024-05-01T12:00:00+02:00","local":"2024-05-01 12:00:00","day":"2024-05-01","uid":'
    '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","span":"P1DT2H","doc":{"n":1.50,"s":"\\u2713"}}',
    '{"id":2,"big":-0.0000000001,"small":1.500,"free":"NaN","ratio":3,"ok":false,'
    '"name":42,"doc":"just a string"}',
    '{"id":3,"big":null,"small":null,"free":null,"ratio":null,"ok":null,"name":true,"at":null,'
    '"doc":null,"unknown":[1,2]}',
    '{"id":4,"name":{"nested":[1,"two"]},"doc":[1,{"a":null}],"free":123456789012345678901234567890}',
    '{"id":5,"small":-99999.99,"name":"","doc":{}}',
]


def lines(stream: str, records: list[str], separator: str = "", tail: str = "") -> bytes:
    """RECORD lines holding the records as written (then ``tail``, more fields); compact
    unless ``separator`` is a space."""
    start = f'{{"type":{separator}"RECORD",{separator}"stream":{separator}"{stream}",'
    return b"".join(
        f'{start}{separator}"record":{separator}{record}{tail}}}\n'.encode() for record in records
    )


def test_compact_and_general_paths_load_the_same_table(pg):
    compact, spaced = (
        pg.singer(pg.schema_message(f"public-{name}", PROPERTIES)) for name in ("compact", "spaced")
    )
    spaced += lines("public-spaced", RECORDS, " ")
    compact += lines("public-compact", RECORDS)  # all on the compact path, its SCHEMA last
    pg.load(spaced + compact)
    assert pg.column_types("compact") == pg.column_types("spaced")
    differences = pg.query(
        "(SELECT * FROM {schema}.compact EXCEPT SELECT * FROM {schema}.spaced) UNION ALL "
        "(SELECT * FROM {schema}.spaced EXCEPT SELECT * FROM {schema}.compact)"
    )
    assert differences == []
    assert pg.query("SELECT count(*) FROM {schema}.compact") == [(5,)]
    (row,) = pg.query(
        "SELECT big::text, small::text, free::text, name, doc::text FROM {schema}.compact "
        "WHERE id = 1"
    )
    assert row == (  # the compact path keeps the JSON number of a jsonb value as written
        "12345678901234567890.1234567890",
        "12345.10",
        "0.000000000000000000000000000001",
        'tab\there "q" back\\slash é / \n',
        '{"n": 1.50, "s": "✓"}',
    )


def test_keys_loaded_by_earlier_batches_of_the_run_are_updated_not_repeated(pg):
    pg.compact_lines = True
    messages = [pg.schema_message("users", {"id": {"type": "integer"}, "name": {"type": "string"}})]
    # Batches of 2: [5, 6] into the empty table; [1, 2] and 9 below and above the keys
    # loaded so far, so straight into the table; 3, 6 and 2 were loaded: merged by key.
    messages += [pg.record("users", id=i, name="first") for i in (5, 6, 1, 2, 9, 3)]
    messages += [pg.record("users", id=6, name="again"), pg.record("users", id=2, name="again")]
    pg.load(pg.singer(*messages), batch_size_rows=2)
    assert pg.query("SELECT id, name FROM {schema}.users ORDER BY id") == [
        (1, "first"),
        (2, "again"),
        (3, "first"),
        (5, "first"),
        (6, "again"),
        (9, "first"),
    ]


def test_streams_sharing_a_table_merge_by_key_across_batches(pg):
    pg.compact_lines = True
    properties = {"id": {"type": "integer"}, "by": {"type": "string"}}
    messages = [pg.schema_message(name, properties) for name in ("a-users", "b-users")]
    for i, name in enumerate(("a-users", "b-users", "a-users", "b-users", "a-users"), 1):
        messages += [pg.record(name, id=i, by=name), pg.record(name, id=i + 1, by=name)]
    pg.load(pg.singer(*messages), batch_size_rows=3)
    assert pg.query("SELECT id, by FROM {schema}.users ORDER BY id") == [
        (1, "a-users"),
        (2, "b-users"),
        (3, "a-users"),
        (4, "b-users"),
        (5, "a-users"),
        (6, "a-users"),
    ]


def test_tap_shaped_lines_carry_their_metadata(pg):
    pg.compact_lines = True
    properties = {"id": {"type": "integer"}, "_sdc_deleted_at": {"type": ["string", "null"]}}
    tail = ',"version":7,"time_extracted":"2024-01-02T03:04:05+00:00"'
    records = ['{"id":1}', '{"id":2,"_sdc_deleted_at":"2024-01-03T00:00:00+00:00"}']
    pg.load(pg.singer(pg.schema_message("users", properties)) + lines("users", records, tail=tail))
    assert pg.query(
        "SELECT id, _sdc_extracted_at::text, _sdc_deleted_at::text, _sdc_table_version "
        "FROM {schema}.users ORDER BY id"
    ) == [
        (1, "2024-01-02 03:04:05+00", None, 7),
        (2, "2024-01-02 03:04:05+00", "2024-01-03 00:00:00+00", 7),
    ]
