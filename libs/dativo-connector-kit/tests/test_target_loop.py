"""The kit's target loop with a destination that keeps batches in memory: batch policy, STATE
after the commit that covers it, BATCH files, line numbers, and the --test folder check."""

from __future__ import annotations

import gzip
import io
import json
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dativo_connector_kit import ConfigurationError
from dativo_connector_kit.target import BatchPolicy, InputError, Target, writable_folder

if t.TYPE_CHECKING:
    from dativo_connector_kit.target import Message, Schema


@dataclass
class Stream:
    name: str
    key_properties: tuple[str, ...]


@dataclass
class MemoryTarget(Target[Stream]):
    """Commits are lists of records; ``log`` interleaves commits and echoed states."""

    policy_: BatchPolicy
    out: io.BytesIO = field(default_factory=io.BytesIO)
    open_batch: list[dict] = field(default_factory=list)
    log: list[t.Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.policy_, self, io.StringIO())

    def write(self, data: bytes) -> None:  # the loop's ``out``: echoed states
        self.log.append(("state", json.loads(data)))

    def flush(self) -> None:
        pass

    def open_stream(self, number: int, schema: Schema) -> Stream:
        return self.streams.get(schema.stream) or Stream(schema.stream, schema.key_properties)

    def write_record(self, number: int, stream: Stream, message: Message, line: bytes) -> None:
        self.open_batch.append(message["record"])

    def commit_batch(self) -> None:
        self.log.append(("commit", [record["id"] for record in self.open_batch]))
        self.open_batch = []


def lines(*messages: dict) -> list[bytes]:
    return [json.dumps(message).encode() + b"\n" for message in messages]


SCHEMA = {"type": "SCHEMA", "stream": "s", "schema": {"properties": {}}, "key_properties": ["id"]}


def record(n: int, payload: str = "") -> dict:
    return {"type": "RECORD", "stream": "s", "record": {"id": n, "p": payload}}


def state(n: int) -> dict:
    return {"type": "STATE", "value": n}


def test_a_batch_is_committed_at_its_byte_limit_and_states_follow_their_commit() -> None:
    target = MemoryTarget(BatchPolicy(max_records=5000, max_bytes=40_000, max_age_seconds=3600))
    first = [record(n, "x" * 20) for n in range(1, 1000)]
    target.consume(lines(SCHEMA, state(0), *first, state(999), record(1000), record(1001)))
    target.consume(lines(state(1001)))
    # state 0: nothing pending, echoed at once. The 1,000th record's check finds more than
    # 40,000 bytes: one commit, then state 999 (the latest before it). Record 1001 is
    # committed at the end of input; state 1001 arrives with nothing pending.
    assert target.log == [
        ("commit", []),
        ("state", 0),
        ("commit", list(range(1, 1001))),
        ("state", 999),
        ("commit", [1001]),
        ("state", 1001),
    ]


@dataclass
class CompactTarget(MemoryTarget):
    """Takes compact lines whose ``p`` is not "refused" undecoded; ``taken`` logs them."""

    taken: list[int] = field(default_factory=list)

    def write_compact_records(self, number: int, stream: Stream, lines: list[bytes]) -> int:
        for count, line in enumerate(lines):
            if b'"refused"' in line:
                return count
            self.taken.append(number + count)
            self.open_batch.append(json.loads(line)["record"])
        return len(lines)


def compact_lines(*messages: dict) -> list[bytes]:
    return [json.dumps(message, separators=(",", ":")).encode() + b"\n" for message in messages]


def test_compact_runs_keep_the_batch_policy_and_line_numbers() -> None:
    target = CompactTarget(BatchPolicy(max_records=1500, max_bytes=10**9, max_age_seconds=3600))
    records = [record(n, "refused" if n in (7, 1200) else "") for n in range(1, 2001)]
    spaced = lines(record(2001))  # not compact: decoded by the loop
    target.consume(compact_lines(SCHEMA, *records[:10], state(10), *records[10:]) + spaced)
    # Committed at the 1,500th record exactly, as line by line; refused lines (input lines 8
    # and 1202) and the spaced one were decoded and written by write_record, in order.
    assert target.log == [
        ("commit", list(range(1, 1501))),
        ("state", 10),
        ("commit", list(range(1501, 2002))),
    ]
    lines_taken = set(target.taken)
    assert len(lines_taken) == 1998 and {8, 1202, 2003}.isdisjoint(lines_taken)
    assert 2 in lines_taken and 1203 in lines_taken  # record 1, and the one after a refusal


def test_batch_files_are_read_from_percent_encoded_file_urls(tmp_path: Path) -> None:
    path = tmp_path / "users 1.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"id": 1}\n\n{"id": 2}\n'))
    batch = {
        "type": "BATCH",
        "stream": "s",
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "manifest": [path.as_uri()],
    }
    assert "%20" in path.as_uri()
    target = MemoryTarget(BatchPolicy())
    target.consume(lines(SCHEMA, batch))
    assert target.log == [("commit", [1, 2])]


def test_bad_input_names_its_line_after_committing_what_came_before(tmp_path: Path) -> None:
    target = MemoryTarget(BatchPolicy())
    with pytest.raises(InputError) as raised:
        target.consume([*lines(SCHEMA, record(1), state(1)), b"{oops\n"])
    assert raised.value.line_number == 4
    assert str(raised.value).startswith("input line 4: not valid JSON")
    assert target.log == [("commit", [1]), ("state", 1)]


def test_a_record_in_a_batch_file_is_named_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "part.jsonl"
    path.write_text('{"id": 1}\n{"name": "no key"}\n')
    encoding = {"format": "jsonl"}
    batch = {"type": "BATCH", "stream": "s", "encoding": encoding, "manifest": [str(path)]}
    with pytest.raises(InputError, match=r"input line 2: BATCH file .*part.jsonl line 2: RECORD"):
        MemoryTarget(BatchPolicy()).consume(lines(SCHEMA, batch))


def test_test_mode_folder_check_writes_nothing(tmp_path: Path) -> None:
    assert writable_folder(tmp_path / "new" / "deeper").endswith(f"can be created in {tmp_path}")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigurationError, match="is not a folder"):
        writable_folder(tmp_path / "file" / "out")
