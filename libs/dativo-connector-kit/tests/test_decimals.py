"""DecimalReader: declared-decimal fields read with the digits of the raw line."""

from __future__ import annotations

from decimal import Decimal

import orjson

from dativo_connector_kit.decimals import DecimalReader, decimal_fields, is_decimal

BIG = "12345678901234567890.1234567890"


def read(line: bytes, fields: tuple[str, ...], make=Decimal) -> dict:
    message = orjson.loads(line)
    return DecimalReader.for_fields(fields, make).exact(line, message["record"])


def test_declared_fields_keep_their_digits_and_others_stay_floats():
    line = b'{"type":"RECORD","stream":"s","record":{"a":%s,"b":1.5}}' % BIG.encode()
    assert read(line, ("a",)) == {"a": Decimal(BIG), "b": 1.5}
    assert str(read(line, ("a",))["a"]) == BIG  # trailing zero kept


def test_a_name_also_nested_or_an_array_is_read_by_the_exact_decoder():
    line = b'{"type":"RECORD","record":{"doc":{"a":0.1},"a":%s,"arr":[1.50,2]}}' % BIG.encode()
    assert read(line, ("a", "arr")) == {
        "doc": {"a": 0.1},
        "a": Decimal(BIG),
        "arr": [Decimal("1.50"), Decimal(2)],
    }


def test_a_key_spelled_with_escapes_is_not_confused_with_a_nested_one():
    line = b'{"type":"RECORD","record":{"\\u0061":%s,"doc":{"a":2.5}}}' % BIG.encode()
    assert read(line, ("a",)) == {"a": Decimal(BIG), "doc": {"a": 2.5}}


def test_integers_beyond_64_bits_and_fragments():
    line = b'{"type":"RECORD","record":{"a":123456789012345678901234567890,"b":null,"c":"NaN"}}'
    record = read(line, ("a", "b", "c"), orjson.Fragment)
    assert orjson.dumps(record) == b'{"a":123456789012345678901234567890,"b":null,"c":"NaN"}'


def test_what_counts_as_declared_decimal():
    properties = {
        "scaled": {"type": "number", "x-sql-datatype": "numeric(30,10)"},
        "free": {"type": "number", "x-sql-datatype": "numeric"},
        "array": {"type": "array", "x-sql-datatype": "numeric(10,2)[]"},
        "pipelinewise": {"type": "number", "multipleOf": 0.01},
        "float": {"type": "number", "x-sql-datatype": "double precision"},
        "plain": {"type": "number"},
        "whole": {"type": "number", "multipleOf": 5},
    }
    assert decimal_fields(properties) == ("scaled", "free", "array", "pipelinewise")
    assert not is_decimal("number")


def test_a_batch_file_line_is_the_record_itself():
    line = b'{"doc":{"a":0.5},"a":%s}' % BIG.encode()
    record = DecimalReader.for_fields(("a",), Decimal).exact(line, orjson.loads(line))
    assert record == {"doc": {"a": 0.5}, "a": Decimal(BIG)}
