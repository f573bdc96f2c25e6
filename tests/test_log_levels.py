"""Reading the level of connector stderr lines: singer-sdk, Python logging, logfmt, Airbyte
LOG messages, tracebacks kept whole, continuation lines, METRIC lines counted."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dativo_ingest.logs.runlog import prune_logs
from dativo_ingest.pipeline.stderr import StderrTail, read_level

# dativo-native, as a native connector's environment runs it (the kit is importable here)
NATIVE = [sys.executable, "-m", "dativo_connector_kit.native.runner"]

DEBUG, INFO, WARNING, ERROR, CRITICAL = (
    logging.DEBUG,
    logging.INFO,
    logging.WARNING,
    logging.ERROR,
    logging.CRITICAL,
)


@pytest.mark.parametrize(
    ("line", "level", "message"),
    [
        (  # singer-sdk's default format, logger name padded
            "2024-05-01 10:00:00,123 | WARNING  | tap-github.issues    | Rate limit is low",
            WARNING,
            "tap-github.issues | Rate limit is low",
        ),
        (
            "2024-05-01 10:00:00,123 | INFO     | tap-x | Skipping parse of env var settings...",
            INFO,
            "tap-x | Skipping parse of env var settings...",
        ),
        ("INFO:target_postgres:Loading 10 rows", INFO, "target_postgres:Loading 10 rows"),
        ("ERROR Connection refused", ERROR, "Connection refused"),
        ("[WARN] slow response", WARNING, "slow response"),
        ("10:00:01 DEBUG   dativo native detail", DEBUG, "dativo native detail"),
        ("2024-05-01T10:00:00Z CRITICAL out of disk", CRITICAL, "out of disk"),
        (  # pipelinewise's logfmt
            "time=2024-05-01 10:00:00 name=target_postgres level=WARNING message=Column added",
            WARNING,
            "Column added",
        ),
        (
            '{"type":"LOG","log":{"level":"ERROR","message":"bad credentials"}}',
            ERROR,
            "bad credentials",
        ),
        ('{"type":"LOG","log":{"level":"WARN","message":"deprecated"}}', WARNING, "deprecated"),
        ("Information about the sync", None, "Information about the sync"),  # not a level
        ("  indented continuation", None, "  indented continuation"),
    ],
)
def test_the_level_a_line_names_is_read(line, level, message):
    assert read_level(line) == (level, message)


def messages(*lines: str) -> tuple[StderrTail, list[tuple[int, str]]]:
    tail = StderrTail("tap-x", lambda text: text.replace("hunter2", "***"))
    return tail, list(tail.messages(iter(lines)))


def test_a_python_traceback_is_one_error_message():
    _, found = messages(
        "INFO starting",
        "Traceback (most recent call last):",
        '  File "tap.py", line 3, in <module>',
        "    main()",
        "ValueError: bad row",
        "plain line after it",
    )
    assert found == [
        (INFO, "starting"),
        (
            ERROR,
            'Traceback (most recent call last):\n  File "tap.py", line 3, in <module>\n'
            "    main()\nValueError: bad row",
        ),
        (INFO, "plain line after it"),  # the traceback was complete
    ]


def test_a_traceback_cut_off_by_eof_is_still_reported_whole():
    _, found = messages("Traceback (most recent call last):", '  File "x.py", line 1')
    assert found == [(ERROR, 'Traceback (most recent call last):\n  File "x.py", line 1')]


def test_lines_without_a_level_continue_the_previous_message():
    _, found = messages("WARNING first line", "second line", "INFO next", "more")
    assert found == [
        (WARNING, "first line"),
        (WARNING, "second line"),
        (INFO, "next"),
        (INFO, "more"),
    ]


def test_metric_lines_are_counted_per_stream_and_kept_at_debug():
    metric = '{"type":"counter","metric":"record_count","value":%d,"tags":{"stream":"users"}}'
    tail, found = messages(
        "2024-05-01 10:00:00,123 | INFO     | singer_sdk.metrics   | METRIC: " + metric % 5,
        "INFO METRIC: " + metric % 7,
        'INFO METRIC: {"type":"timer","metric":"sync_duration","value":0.1,"tags":{}}',
    )
    assert tail.records_per_stream == {"users": 12}
    assert [level for level, _ in found] == [DEBUG, DEBUG, DEBUG]


def test_consume_logs_redacted_lines_under_the_side_and_keeps_the_tail(caplog):
    tail = StderrTail("target-x", lambda text: text.replace("hunter2", "***"), side="target")
    read_end, write_end = os.pipe()
    os.write(write_end, b"WARNING password hunter2 rejected\nINFO chatter\n")
    os.close(write_end)
    with caplog.at_level(logging.DEBUG, logger="dativo.connector"), open(read_end, "rb") as pipe:
        tail.consume(pipe)
    assert [(r.levelno, r.getMessage(), r.side, r.connector) for r in caplog.records] == [
        (WARNING, "password *** rejected", "target", "target-x"),
        (INFO, "chatter", "target", "target-x"),
    ]
    assert list(tail.tail) == ["WARNING password *** rejected", "INFO chatter"]


def test_retention_removes_only_logs_older_than_the_setting(tmp_path: Path):
    root = tmp_path / "logs"
    old = root / "acme" / "orders" / "20240101T000000-aaaaaa.log"
    new = root / "acme" / "orders" / "20240301T000000-bbbbbb.log"
    other = root / "acme" / "orders" / "notes.txt"
    for path in (old, new, other):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    now = time.time()
    os.utime(old, (now - 3 * 86400, now - 3 * 86400))
    os.utime(other, (now - 9 * 86400, now - 9 * 86400))
    assert prune_logs(root, 0, now) == []  # 0 keeps everything
    assert prune_logs(root, 2, now) == [old]
    assert not old.exists() and new.exists() and other.exists()


def test_retention_passes_are_an_hour_of_cutoff_apart(tmp_path: Path):
    """Each run prunes, and a pass stats every log: the next pass waits until its cutoff has
    moved an hour past the last one's."""
    root = tmp_path / "logs"
    log = root / "acme" / "orders" / "20240101T000000-aaaaaa.log"
    log.parent.mkdir(parents=True)
    log.write_text("{}\n")
    now = time.time()
    assert prune_logs(root, 2, now) == []  # a pass: nothing old yet
    os.utime(log, (now - 3 * 86400, now - 3 * 86400))
    assert prune_logs(root, 2, now + 3599) == []  # within the hour: no pass
    assert log.exists()
    assert prune_logs(root, 2, now + 3600) == [log]
    # a shorter retention moves the cutoff by days: a pass at once
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("{}\n")
    os.utime(log, (now - 1.5 * 86400, now - 1.5 * 86400))
    assert prune_logs(root, 1, now + 3600) == [log]


def test_a_native_connectors_log_lines_carry_a_level_dativo_reads(tmp_path: Path):
    (tmp_path / "noisy.py").write_text(
        "from dativo_connector_kit.native import get_logger\n"
        "log = get_logger('noisy')\n"
        "class Noisy:\n"
        "    def __init__(self, source_config, state_manager=None): pass\n"
        "    def check_connection(self):\n"
        "        log.warning('the API is slow')\n"
        "        log.info('checked')\n"
        "        return {'success': True, 'message': 'ok'}\n"
    )
    (tmp_path / "config.json").write_text("{}")
    result = subprocess.run(
        [*NATIVE, "--entrypoint", "noisy:Noisy", "--config", tmp_path / "config.json", "--test"],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    levels = [read_level(line) for line in result.stderr.splitlines()[:2]]
    assert levels == [(WARNING, "noisy: the API is slow"), (INFO, "noisy: checked")]
