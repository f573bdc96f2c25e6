"""The bad-input catalogue: each kind of bad input gets a precise error naming where it is,
and nothing already committed is lost (the stored state and the files already written stay).

Streams come from a canned tap (tests/programs/canned_tap.py) into the real target-jsonl.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dativo_ingest.state import open_store
from tests.conftest import PROGRAMS

CANNED_TAP = str(PROGRAMS / "canned_tap.py")
SCHEMA = (
    b'{"type":"SCHEMA","stream":"items","key_properties":["id"],"schema":{"type":"object",'
    b'"properties":{"id":{"type":"integer"},"s":{"type":"string"}}}}'
)
GOOD = SCHEMA + b'\n{"type":"RECORD","stream":"items","record":{"id":1}}\n'
GOOD += b'{"type":"STATE","value":{"done":1}}\n'


def record(body: bytes) -> bytes:
    return b'{"type":"RECORD","stream":"items","record":' + body + b"}\n"


@pytest.fixture
def canned(tmp_path, home, connector_exe):
    """Run a canned stream into target-jsonl after a good run confirmed a state; return the
    bad run's result."""
    jsonl = connector_exe("target-jsonl")
    out = tmp_path / "out"

    def run(dativo, stream: bytes):
        job = tmp_path / "job.yaml"
        stream_file = tmp_path / "stream.singer"
        job.write_text(
            yaml.safe_dump(
                {
                    "tenant_id": "acme",
                    "name": "job",
                    "source": {
                        "executable": CANNED_TAP,
                        "config": {"stream_file": str(stream_file)},
                    },
                    "target": {"executable": jsonl, "config": {"destination_path": str(out)}},
                }
            )
        )
        stream_file.write_bytes(GOOD)
        first = dativo("run", job)
        assert first.returncode == 0, first.stderr
        stream_file.write_bytes(stream)
        return dativo("run", job, timeout=120)

    return run


def committed(home: Path, out: Path) -> tuple[object, list[int]]:
    store = open_store(home)
    try:
        state = store.get_state("acme/job")
    finally:
        store.close()
    lines = [line for f in sorted(out.glob("*.jsonl")) for line in f.read_text().splitlines()]
    ids = [json.loads(line)["id"] for line in lines]
    return (state.value if state else None), ids


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        pytest.param(
            SCHEMA + b"\n" + record(b'{"id":2}') + b'{"type":"RECORD",broken\n',
            "input line 3: not valid JSON",
            id="malformed-json-line",
        ),
        pytest.param(
            record(b'{"id":2}'),
            "input line 1: RECORD for stream 'items' arrived before its SCHEMA",
            id="record-before-schema",
        ),
        pytest.param(
            SCHEMA + b'\n{"type":"RECORD","stream":"other","record":{"id":2}}\n',
            "input line 2: RECORD for stream 'other' arrived before its SCHEMA",
            id="unknown-stream",
        ),
        pytest.param(
            SCHEMA + b"\n" + record(b'{"id":2,"s":"a\xff\xfeb"}'),
            "input line 2: not valid JSON (str is not valid UTF-8",
            id="invalid-utf8",
        ),
        pytest.param(
            SCHEMA + b"\n" + record(b'{"id":2,"s":"a\x00b"}'),
            "input line 2: not valid JSON (unexpected control character",
            id="nul-byte",
        ),
    ],
)
def test_bad_stream_fails_naming_the_line_and_keeps_what_was_committed(
    canned, dativo, home, tmp_path, stream, message
):
    result = canned(dativo, stream)
    assert result.returncode == 1
    assert "target-jsonl failed with exit code 1" in result.stderr
    assert message in result.stderr
    state, ids = committed(home, tmp_path / "out")
    assert state == {"done": 1}
    assert 1 in ids  # the good run's record is still there


def test_an_escaped_nul_travels_exactly(canned, dativo, tmp_path):
    stream = (
        SCHEMA
        + b"\n"
        + record(b'{"id":2,"s":"a\\u0000b"}')
        + b'{"type":"STATE","value":{"done":2}}\n'
    )
    result = canned(dativo, stream)
    assert result.returncode == 0, result.stderr
    lines = b"".join(f.read_bytes() for f in sorted((tmp_path / "out").glob("*.jsonl")))
    assert b'{"id":2,"s":"a\\u0000b"}' in lines


def test_a_100_mb_record_streams_through_in_bounded_memory(
    home, write_job, dativo, tmp_path, connector_exe
):
    out = tmp_path / "out"
    job = write_job(
        source={"records": 2, "big_record_bytes": 100 << 20},
        target={"destination_path": str(out)},
    )
    spec = yaml.safe_load(job.read_text())
    spec["target"]["executable"] = connector_exe("target-jsonl")
    job.write_text(yaml.safe_dump(spec))
    result = dativo("run", job, timeout=180)
    assert result.returncode == 0, result.stderr
    written = b"".join(f.read_bytes() for f in out.glob("*.jsonl"))
    assert written.count(b"x" * 1000) >= (100 << 20) // 1000
    store = open_store(home)
    run = store.list_runs(1)[0]
    store.close()
    assert run.records == 2
    assert run.orchestrator_peak_rss_bytes < 100 << 20  # never held the record whole


def test_a_target_state_that_is_not_an_object_is_refused_and_the_store_kept(
    home, write_job, dativo
):
    job = write_job(source={"records": 3}, target={"extra_lines": [[1, 2], "text"]})
    result = dativo("run", job)
    assert result.returncode == 0, result.stderr
    assert "[fake_target.py] stdout line 1 is" in result.stderr
    assert "[fake_target.py] stdout line 2 is" in result.stderr
    store = open_store(home)
    assert store.get_state("acme/job").value == {"bookmarks": {"items": {"last_id": 3}}}
    store.close()


def test_a_state_file_that_is_not_a_json_object_is_refused(tmp_path, dativo):
    listed = tmp_path / "state.json"
    listed.write_text("[1, 2]")
    result = dativo("state", "set", "acme/job", listed)
    assert result.returncode == 2
    assert f"{listed}: a state must be a non-empty JSON object" in result.stderr


def test_a_selection_naming_missing_streams_is_refused_before_the_run(tmp_path, dativo):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        json.dumps(
            {
                "streams": [
                    {
                        "tap_stream_id": "items",
                        "stream": "items",
                        "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
                        "metadata": [{"breadcrumb": [], "metadata": {}}],
                    }
                ]
            }
        )
    )
    job = tmp_path / "job.yaml"
    job.write_text(
        yaml.safe_dump(
            {
                "tenant_id": "acme",
                "name": "job",
                "source": {
                    "executable": CANNED_TAP,
                    "catalog": "catalog.json",
                    "select": ["items.*", "orderz.*"],
                    "config": {"stream_file": "/dev/null"},
                },
                "target": {"executable": str(PROGRAMS / "fake_target.py")},
            }
        )
    )
    result = dativo("run", job)
    assert result.returncode == 2
    assert "source.select: 'orderz.*' names no stream of the catalog (its streams: items)" in (
        result.stderr
    )


def test_a_registry_entry_with_a_wrong_field_is_refused_naming_it(tmp_path, dativo):
    (tmp_path / "registry.yaml").write_text(
        "connectors:\n"
        "  - {name: tap-x, type: source, engine: singer, executable: tap-x, pip_url: tap-x==1,"
        " colour: red}\n"
    )
    job = tmp_path / "job.yaml"
    job.write_text(
        yaml.safe_dump(
            {
                "tenant_id": "acme",
                "name": "job",
                "source": {"connector": "tap-x"},
                "target": {"executable": str(PROGRAMS / "fake_target.py")},
            }
        )
    )
    result = dativo("run", job)
    assert result.returncode == 2
    assert "registry.yaml" in result.stderr
    assert "entry 'tap-x' (variant 'default'): colour: Extra inputs are not permitted" in (
        result.stderr
    )
