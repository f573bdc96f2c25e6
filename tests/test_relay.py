"""The relay copies bytes exactly, counts records, finds the last STATE, bounds memory."""

from __future__ import annotations

import os
import threading

import orjson

from dativo_ingest.pipeline.relay import CHUNK_SIZE, MAX_HELD_LINE, Relay
from dativo_ingest.protocol.singer import SingerScanner


def relay_bytes(pieces: list[bytes], source_succeeded: bool = True) -> tuple[bytes, Relay]:
    """Feed ``pieces`` through a Relay between two real pipes; return what came out."""
    source_read, source_write = os.pipe()
    sink_read, sink_write = os.pipe()
    received = bytearray()

    def feed() -> None:
        for piece in pieces:
            os.write(source_write, piece)
        os.close(source_write)

    def drain() -> None:
        while chunk := os.read(sink_read, 1 << 20):
            received.extend(chunk)

    threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for thread in threads:
        thread.start()
    relay = Relay(source_read, sink_write, SingerScanner())
    relay.run()
    relay.finish(source_succeeded)
    os.close(sink_write)
    for thread in threads:
        thread.join()
    os.close(source_read)
    os.close(sink_read)
    return bytes(received), relay


def record(i: int, payload: str = "") -> bytes:
    return (
        orjson.dumps({"type": "RECORD", "stream": "s", "record": {"id": i, "p": payload}}) + b"\n"
    )


def state(i: int) -> bytes:
    return orjson.dumps({"type": "STATE", "value": {"at": i}}) + b"\n"


def test_bytes_pass_unchanged_when_split_anywhere():
    stream = b"".join(record(i) + (state(i) if i % 7 == 0 else b"") for i in range(1, 100))
    pieces = [stream[i : i + 13] for i in range(0, len(stream), 13)]
    out, relay = relay_bytes(pieces)
    assert out == stream
    assert relay.scanner.records == 99
    assert relay.scanner.last_state == {"at": 98}
    assert relay.bytes_in == len(stream)


def test_lines_longer_than_the_hold_limit_stream_through():
    huge = record(2, "y" * (MAX_HELD_LINE + 3 * CHUNK_SIZE))
    stream = record(1) + huge + record(3) + state(3)
    out, relay = relay_bytes([stream[i : i + 100_000] for i in range(0, len(stream), 100_000)])
    assert out == stream
    assert relay.scanner.records == 3
    assert relay.scanner.last_state == {"at": 3}


def test_a_state_that_mentions_state_in_a_record_is_not_confused():
    fake = orjson.dumps({"type": "RECORD", "stream": "s", "record": {"type": "STATE"}}) + b"\n"
    _, relay = relay_bytes([state(1) + fake + record(2)])
    assert relay.scanner.last_state == {"at": 1}
    assert relay.scanner.records == 2


def test_final_line_without_newline_is_delivered_when_the_source_succeeded():
    last = record(2).rstrip(b"\n")
    out, relay = relay_bytes([record(1), last], source_succeeded=True)
    assert out == record(1) + last
    assert relay.scanner.records == 2


def test_incomplete_final_line_is_dropped_when_the_source_failed():
    out, _ = relay_bytes([record(1), b'{"type":"RECORD","str'], source_succeeded=False)
    assert out == record(1)


def test_a_closed_destination_stops_the_relay():
    source_read, source_write = os.pipe()
    sink_read, sink_write = os.pipe()
    os.close(sink_read)
    os.write(source_write, record(1) * 10)
    relay = Relay(source_read, sink_write, SingerScanner())
    relay.run()
    assert relay.destination_closed
    for fd in (source_read, source_write, sink_write):
        os.close(fd)
