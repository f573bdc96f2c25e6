"""The FIFOs that carry a container's stdin and stdout (runtime/container/stdio.py), with
local processes in the container's place: a ``holder`` stands for the ``docker start
--attach`` process (it gets the placeholders and lives as long as the container), and the
shell commands it runs open the FIFOs as the container's wrapper does."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time

import pytest

from dativo_ingest.runtime.container.stdio import StdioPipes

pytestmark = pytest.mark.timeout(60)


def start_holder(pipes: StdioPipes, script: str) -> subprocess.Popen[bytes]:
    """``sh -c script`` holding the placeholders, in the FIFOs' folder; dativo's copies of
    the placeholders are dropped, as after the attach process started."""
    holder = subprocess.Popen(["sh", "-c", script], cwd=pipes.folder, pass_fds=pipes.placeholders)
    pipes.drop_placeholders()
    return holder


def read_all(pipes: StdioPipes, timeout: float = 20.0) -> bytes:
    """All of the stdout FIFO up to EOF; fails if EOF does not come within ``timeout``."""
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(pipes.stdout.read()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert got, "no EOF on the stdout FIFO"
    return got[0]


@pytest.fixture
def pipes():
    """Makes StdioPipes (``feed``: with an input FIFO); all closed after the test."""
    made: list[StdioPipes] = []

    def make(feed: bool) -> StdioPipes:
        made.append(StdioPipes(feed, os.getuid(), os.getgid()))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_the_folder_is_private_and_holds_only_the_fifos(pipes):
    fed, unfed = pipes(True), pipes(False)
    assert stat.S_IMODE(fed.folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in fed.folder.iterdir()) == ["in", "out"]
    assert sorted(p.name for p in unfed.folder.iterdir()) == ["out"]
    for fifo in fed.folder.iterdir():
        assert stat.S_ISFIFO(fifo.stat().st_mode) and stat.S_IMODE(fifo.stat().st_mode) == 0o600
    assert unfed.stdin is None
    fed.close()
    assert not fed.folder.exists()


def test_a_late_writer_is_read_in_full_and_eof_follows_its_end(pipes):
    """No early EOF while the container has not opened its stdout yet."""
    fifos = pipes(False)
    holder = start_holder(fifos, "sleep 0.5; printf 'late\\n' > out")
    assert read_all(fifos) == b"late\n"
    assert holder.wait(5) == 0


def test_a_container_that_never_opens_its_stdout_ends_the_stream_when_it_exits(pipes):
    fifos = pipes(False)
    holder = start_holder(fifos, "exit 3")
    assert read_all(fifos) == b""
    assert holder.wait(5) == 3


def test_the_writer_gets_epipe_when_the_reader_is_gone_or_never_came(pipes):
    for script in ("head -c 10 < in > /dev/null", "exit 0"):
        fifos = pipes(True)
        holder = start_holder(fifos, script)
        assert fifos.stdin is not None
        with pytest.raises(BrokenPipeError):
            for _ in range(100):  # far more than the pipe holds
                fifos.stdin.write(b"x" * (1 << 20))
        assert holder.wait(5) == 0


def test_input_and_output_flow_through_in_full(pipes):
    fifos = pipes(True)
    holder = start_holder(fifos, "exec cat < in > out")
    data = b"".join(b'{"type":"RECORD","n":%d}\n' % n for n in range(200_000))
    assert fifos.stdin is not None
    writer = threading.Thread(target=lambda: (fifos.stdin.write(data), fifos.stdin.close()))
    writer.start()
    assert read_all(fifos) == data
    writer.join()
    assert holder.wait(5) == 0


def test_the_wrapper_never_waits_for_dativo_and_loses_nothing(pipes):
    """A container may open its FIFOs after dativo wrote all its input and closed its end
    (a short stream, a slow start): the input is still there, and EOF follows."""
    fifos = pipes(True)
    assert fifos.stdin is not None
    fifos.stdin.write(b"early\n")
    fifos.stdin.close()
    holder = subprocess.Popen(
        [*fifos.wrapper(str(fifos.folder)), "sh", "-c", "sleep 0.3; cat"],
        pass_fds=fifos.placeholders,
    )
    fifos.drop_placeholders()
    assert read_all(fifos) == b"early\n"
    assert holder.wait(5) == 0


def test_kill_holders_ends_the_stream_of_a_connector_that_ignores_sigterm(pipes):
    """What stops a container whose daemon does not answer: its FIFOs' holders are killed."""
    fifos = pipes(True)
    holder = start_holder(fifos, "trap '' TERM; exec < in > out; echo ready; exec sleep 300")
    assert os.read(fifos.stdout.fileno(), 100) == b"ready\n"
    began = time.monotonic()
    fifos.kill_holders()
    assert read_all(fifos) == b""
    assert time.monotonic() - began < 5
    assert holder.wait(5) == -9
