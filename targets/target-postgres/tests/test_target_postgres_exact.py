"""Decimals declared by the schema are loaded with every digit, or refused naming the line."""

from __future__ import annotations

SCHEMA = {
    "id": {"type": "integer"},
    "price": {"type": ["number", "null"], "x-sql-datatype": "numeric(7,2)"},
    "free": {"type": ["number", "null"], "x-sql-datatype": "numeric"},
    "doc": {"type": ["object", "null"]},
}


def load_lines(pg, *records: str, **settings):
    """Run the target on a SCHEMA and hand-written RECORD lines (exact number literals)."""
    schema = pg.singer(pg.schema_message("public-prices", SCHEMA))
    lines = b"".join(
        b'{"type":"RECORD","stream":"public-prices","record":' + record.encode() + b"}\n"
        for record in records
    )
    return pg.run(schema + lines, **settings)


def test_declared_decimals_keep_every_digit(pg):
    result = load_lines(
        pg,
        '{"id":1,"price":12345.10,"free":123456789012345678901234567890.000000000000000001}',
        '{"id":2,"price":-0.5,"free":1E-30,"doc":{"free":1.5}}',  # the name again, nested
        '{"id":3,"price":null,"free":"NaN"}',
        validate_records=True,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert pg.column_types("prices")["price"] == "numeric"
    assert pg.query("SELECT id, price::text, free::text FROM {schema}.prices ORDER BY id") == [
        (1, "12345.10", "123456789012345678901234567890.000000000000000001"),
        (2, "-0.50", "0.000000000000000000000000000001"),
        (3, None, "NaN"),
    ]
    (scale,) = pg.query(
        "SELECT numeric_precision || ',' || numeric_scale FROM information_schema.columns "
        "WHERE table_schema = %s AND column_name = 'price'",
        (pg.schema,),
    )
    assert scale == ("7,2",)


def test_a_decimal_that_does_not_fit_is_refused_naming_line_and_field(pg):
    result = load_lines(pg, '{"id":1,"price":1.25}', '{"id":2,"price":1.255}')
    assert result.returncode == 1
    error = result.stderr.decode()
    assert "input line 3" in error and "field 'price'" in error, error
    assert "1.255 cannot be stored exactly in numeric(7,2)" in error
    assert pg.query("SELECT to_regclass('{schema}.prices')") == [(None,)]  # all rolled back


def test_plain_numbers_still_load_as_double_precision(pg):
    schema = pg.singer(
        pg.schema_message("public-plain", {"id": {"type": "integer"}, "x": {"type": "number"}})
    )
    pg.load(schema + b'{"type":"RECORD","stream":"public-plain","record":{"id":1,"x":0.1}}\n')
    assert pg.column_types("plain")["x"] == "double precision"
    assert pg.query("SELECT x FROM {schema}.plain") == [(0.1,)]


def test_a_typed_array_value_that_cannot_be_written_names_its_field(pg):
    ints = {"id": {"type": "integer"}, "ints": {"type": "array", "x-sql-datatype": "integer[]"}}
    schema = pg.singer(pg.schema_message("public-arrays", ints))
    record = b'{"type":"RECORD","stream":"public-arrays","record":{"id":1,"ints":[{"a":1}]}}\n'
    result = pg.run(schema + record)
    assert result.returncode == 1
    assert "input line 2" in result.stderr.decode() and "field 'ints'" in result.stderr.decode()
