"""Mapper connectors in the pipe (`transforms:`): `tap | mapper | ... | target` run by
`dativo run` with real processes, among them the Hub's meltano-map-transformer installed by
name from the index; failures, stalls and signals of a mapper; `dativo check` of transforms."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from dativo_ingest.state import open_store
from tests.conftest import PROGRAMS
from tests.test_run_signals import children_of, start, wait_for
from tests.test_stream_maps import SDK_MAPS, canned_stream, write_job

FAKE_MAPPER = str(PROGRAMS / "fake_mapper.py")
HUB_MAPPER = {"connector": "meltano-map-transformer", "variant": "meltano"}


def stored_value(home: Path) -> Any:
    store = open_store(home)
    try:
        stored = store.get_state("acme/job")
        return None if stored is None else stored.value
    finally:
        store.close()


def shape(lines: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """Records in order, and each stream's properties and key, of a Singer stream."""
    messages = [json.loads(line) for line in lines]
    records = [(m["stream"], m["record"]) for m in messages if m["type"] == "RECORD"]
    schemas = {
        m["stream"]: (sorted(m["schema"]["properties"]), m["key_properties"])
        for m in messages
        if m["type"] == "SCHEMA"
    }
    return records, schemas


@pytest.fixture
def canned(tmp_path: Path) -> dict[str, Any]:
    """The canned users and items stream, replayed by the canned tap."""
    stream_file = tmp_path / "stream.singer"
    stream_file.write_text(canned_stream())
    return {
        "executable": str(PROGRAMS / "canned_tap.py"),
        "config": {"stream_file": str(stream_file)},
    }


def echo_target(received: Path) -> dict[str, Any]:
    return {"executable": str(PROGRAMS / "fake_target.py"), "config": {"received": str(received)}}


@pytest.mark.timeout(600)
def test_hub_mapper_in_the_pipe_agrees_with_inline_maps(canned, dativo, tmp_path, home):
    """The same maps in meltano-map-transformer (followed by a second mapper, a plain pipe
    between them) and inline give the same records and schemas; the state comes from the
    target."""
    piped, inline = tmp_path / "piped.singer", tmp_path / "inline.singer"
    transforms = [
        {**HUB_MAPPER, "config": {"stream_maps": SDK_MAPS}},
        {"executable": FAKE_MAPPER},
    ]
    job = write_job(tmp_path, canned, echo_target(piped), transforms=transforms)
    result = dativo("run", job, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "canned_tap.py -> meltano-map-transformer -> fake_mapper.py -> fake_target.py" in (
        result.stderr
    )
    assert stored_value(home) == {"bookmarks": {"users": {"id": 5}}}
    run = open_store(home).list_runs(1)[0]
    assert run.resources["transforms[0]"]["connector"] == "meltano-map-transformer"
    assert run.resources["transforms[0]"]["exit_code"] == 0
    assert run.resources["transforms[1]"]["cpu_s"] > 0

    job = write_job(tmp_path, canned, echo_target(inline), stream_maps=SDK_MAPS)
    assert dativo("run", job, "--full-refresh").returncode == 0
    by_mapper, by_dativo = (
        shape(piped.read_text().splitlines()),
        shape(inline.read_text().splitlines()),
    )
    assert by_mapper == by_dativo
    assert len(by_mapper[0]) == 9  # four people (one filtered out), five items


@pytest.mark.timeout(600)
def test_failing_hub_mapper_fails_the_run_with_its_stderr_tail(canned, dativo, tmp_path, home):
    maps = {"users": {"bad": "int(email)"}}
    transforms = [{**HUB_MAPPER, "config": {"stream_maps": maps}}]
    job = write_job(tmp_path, canned, echo_target(tmp_path / "r.singer"), transforms=transforms)
    result = dativo("run", job, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "meltano-map-transformer failed with exit code 1; no new state was saved" in (
        result.stderr
    )
    assert "lines of meltano-map-transformer stderr" in result.stderr
    assert "invalid literal for int() with base 10: 'u1@x.org'" in result.stderr
    assert stored_value(home) is None
    assert open_store(home).list_runs(1)[0].status == "failed"


def test_first_failure_is_named_not_the_processes_it_ended(write_job, dativo, home, tmp_path):
    """A mapper failing mid-stream is named (the target, fed a clean end of input, is not);
    a target failing is named, not the mapper that then met a closed pipe."""
    job = write_job(
        source={"records": 50, "state_every": 100},
        transforms=[{"executable": FAKE_MAPPER, "config": {"fail_after": 20}}],
    )
    result = dativo("run", job)
    assert result.returncode == 1
    assert "fake_mapper.py failed with exit code 5" in result.stderr
    assert "fake_mapper: cannot map record 20" in result.stderr
    assert stored_value(home) is None

    job = write_job(
        source={"records": 5000, "state_every": 10_000},
        target={"fail_after": 10},
        transforms=[{"executable": FAKE_MAPPER}, {"executable": FAKE_MAPPER}],
    )
    result = dativo("run", job)
    assert result.returncode == 1
    assert "fake_target.py failed with exit code 4" in result.stderr
    assert "fake_target: simulated failure at record 11" in result.stderr


def test_mapper_exiting_early_fails_the_run(write_job, dativo, home):
    """More records than the pipes hold, so the mapper quits while its input still flows.
    (One that quits after dativo sent the end of its input, the rest unread in the pipe, is
    not told apart from one that read it all; the target confirms only what reached it.)"""
    job = write_job(
        source={"records": 200_000, "state_every": 10},
        transforms=[{"executable": FAKE_MAPPER, "config": {"exit_early_after": 3}}],
    )
    result = dativo("run", job)
    assert result.returncode == 1
    assert "fake_mapper.py exited before reading the whole stream" in result.stderr


@pytest.mark.parametrize(
    ("stops_reading", "named", "side"),
    [
        ("transforms[1]", "fake_mapper.py (transforms[1])", "transforms[1]"),
        ("target", "fake_target.py", "target"),
    ],
)
def test_the_process_that_stops_reading_is_named_and_stopped(
    write_job, dativo, home, stops_reading, named, side
):
    """Behind two mappers, the one process that stops reading is told apart from those
    waiting on it (each hop knows whether it waits to write), named with its position in
    the error and the run record, and stopped alone: the rest end on their own."""
    stall = {"stop_reading_after": 5}
    mappers = [{"executable": FAKE_MAPPER}, {"executable": FAKE_MAPPER}]
    if stops_reading == "transforms[1]":
        mappers[1]["config"] = stall
    job = write_job(
        source={"records": 200_000},
        target=stall if stops_reading == "target" else {},
        transforms=mappers,
        idle_timeout="1s",
    )
    began = time.monotonic()
    result = dativo("run", job, "--grace-seconds", "2")
    assert result.returncode == 1
    assert time.monotonic() - began < 20
    assert f"{named} stalled: it read no input for 1s (idle_timeout)" in result.stderr
    assert f"; stopping {named.split()[0]}\n" in result.stderr
    run = open_store(home).list_runs(1)[0]
    assert run.status == "failed" and named in (run.error or "")
    stalled = [s for s, figures in run.resources.items() if "stalled" in figures]
    assert stalled == [side]


def test_a_mapper_that_does_not_exit_after_its_input_is_named_not_the_target(
    write_job, dativo, home
):
    """Nothing waits to be read: the first process still running holds up the rest."""
    job = write_job(
        source={"records": 20, "state_every": 10},
        transforms=[{"executable": FAKE_MAPPER, "config": {"hang_at_end": True}}],
        idle_timeout="1s",
    )
    result = dativo("run", job, "--grace-seconds", "2")
    assert result.returncode == 1
    assert "fake_mapper.py (transforms[0]) stalled: it did not finish within 1s" in result.stderr
    resources = open_store(home).list_runs(1)[0].resources
    assert "stalled" in resources["transforms[0]"] and "stalled" not in resources["target"]


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_every_process(home, env, write_job, tmp_path, signum, exit_code):
    ready = [tmp_path / "mapper-1", tmp_path / "mapper-2"]
    job = write_job(
        source={"records": 1000, "state_every": 10, "sleep_after": 55, "sleep_seconds": 120},
        transforms=[{"executable": FAKE_MAPPER, "config": {"ready_file": str(r)}} for r in ready],
    )
    run = start(job, env)
    wait_for(lambda: stored_value(home) == {"bookmarks": {"items": {"last_id": 50}}})
    children = children_of(run)
    assert len(children) == 4
    run.send_signal(signum)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == exit_code, stderr
    assert stored_value(home) == {"bookmarks": {"items": {"last_id": 50}}}
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.timeout(600)
def test_check_validates_transforms(canned, dativo, tmp_path):
    target = echo_target(tmp_path / "r.singer")
    good = [{**HUB_MAPPER, "config": {"stream_maps": SDK_MAPS}}]
    result = dativo("check", write_job(tmp_path, canned, target, transforms=good), timeout=300)
    assert "PASS  transforms[0] meltano-map-transformer: started on an empty stream" in (
        result.stdout
    ), result.stdout + result.stderr

    missing = [{**HUB_MAPPER, "config": {}}]
    result = dativo("check", write_job(tmp_path, canned, target, transforms=missing))
    assert result.returncode == 2
    assert "transforms[0].config" in result.stderr and "stream_maps" in result.stderr

    wrong_kind = [{"connector": "tap-csv"}]
    result = dativo("check", write_job(tmp_path, canned, target, transforms=wrong_kind))
    assert result.returncode == 2
    assert "transforms[0].connector" in result.stderr and "not a mapper" in result.stderr

    bad_maps = [{**HUB_MAPPER, "config": {"stream_maps": "not a mapping"}}]
    result = dativo("check", write_job(tmp_path, canned, target, transforms=bad_maps), timeout=300)
    assert result.returncode != 0
    assert "transforms[0]" in result.stdout + result.stderr


def test_mappers_need_a_singer_target(canned, dativo, tmp_path):
    target = {
        "executable": str(PROGRAMS / "fake_airbyte_destination.py"),
        "protocol": "airbyte",
        "config": {"destination_path": str(tmp_path / "out")},
    }
    job = write_job(tmp_path, canned, target, transforms=[{"executable": FAKE_MAPPER}])
    result = dativo("run", job)
    assert result.returncode == 2
    assert "transforms: mappers write Singer, and fake_airbyte_destination.py reads airbyte" in (
        result.stderr
    )
    assert not (tmp_path / "out").exists()
