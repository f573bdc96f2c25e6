"""A real S3-protocol server for targets' tests: moto's server (installed from PyPI into its
own environment by the tests), on a free port of the loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import typing as t

MOTO = ("moto[server]==5.2.5", "moto_server")  # (requirement, executable)


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def moto_server(executable: str, **environment: str) -> t.Iterator[str]:
    """Run moto's S3 server (``executable``) on a free port; yield its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **environment},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the S3 server did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
