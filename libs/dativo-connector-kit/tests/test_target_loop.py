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
from dativo_connector_kit.target.loop import RUN_BYTES

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


@dataclass
class RunTarget(MemoryTarget):
    """Takes runs of compact records (each run's size is logged in ``runs``), refusing those
    holding a record with ``"p": "refuse"``."""

    runs: list[int] = field(default_factory=list)

    def takes_runs(self, stream: Stream) -> bool:
        return True

    def take_run(self, stream: Stream, records: list[bytes]) -> bool:
        try:
            decoded = [json.loads(raw) for raw in records]
        except json.JSONDecodeError:
            return False
        if any(record.get("p") == "refuse" for record in decoded):
            return False
        self.runs.append(sum(map(len, records)))
        self.open_batch += decoded
        return True


def compact(*messages: dict) -> list[bytes]:
    return [json.dumps(message, separators=(",", ":")).encode() + b"\n" for message in messages]


def test_runs_are_committed_and_counted_as_lines_read_one_by_one() -> None:
    messages = [SCHEMA, state(0), *(record(n, "x" * 20) for n in range(1, 1000)), state(999)]
    messages += [record(1000), record(1001)]
    policy = BatchPolicy(max_records=5000, max_bytes=40_000, max_age_seconds=3600)
    one_by_one, in_runs = MemoryTarget(policy), RunTarget(policy)
    one_by_one.consume(compact(*messages))
    in_runs.consume(compact(*messages))
    assert in_runs.log == one_by_one.log
    # records 1-999 (the STATE after them ends the run), 1000 (handed over by the commit its
    # policy check makes), 1001
    assert len(in_runs.runs) == 3


def test_a_refused_run_is_read_again_line_by_line_and_fails_at_its_bad_line() -> None:
    target = RunTarget(BatchPolicy())
    good = [record(n) for n in range(1, 4)]
    target.consume(compact(SCHEMA, *good, state(3), record(4, "refuse"), record(5)))
    assert target.log == [("commit", [1, 2, 3, 4, 5]), ("state", 3)]
    assert len(target.runs) == 1
    target = RunTarget(BatchPolicy())
    bad = b'{"type":"RECORD","stream":"s","record":{"id":6,"p":}}\n'
    with pytest.raises(InputError) as raised:
        target.consume([*compact(SCHEMA, *good, state(3), record(4), record(5)), bad])
    assert str(raised.value).startswith("input line 8: not valid JSON")
    assert target.log == [("commit", [1, 2, 3, 4, 5]), ("state", 3)]


def test_a_long_run_is_handed_over_in_pieces() -> None:
    target = RunTarget(BatchPolicy())
    big = [record(n, "x" * 100_000) for n in range(1, 201)]  # 20 MB
    target.consume(compact(SCHEMA, *big))
    assert target.log == [("commit", list(range(1, 201)))]
    assert len(target.runs) > 1
    assert max(target.runs) <= RUN_BYTES + 100_100


def test_a_target_sets_the_size_at_which_runs_are_handed_over() -> None:
    class SmallRuns(RunTarget):
        run_bytes = 1000

    target = SmallRuns(BatchPolicy())
    target.consume(compact(SCHEMA, *(record(n, "x" * 90) for n in range(1, 101))))
    assert target.log == [("commit", list(range(1, 101)))]
    assert len(target.runs) >= 10
    assert max(target.runs) <= 1000 + 110
