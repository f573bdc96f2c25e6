"""One run per job at a time; secrets stay out of arguments, logs, history and files."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psutil

from dativo_ingest.state import open_store
from tests.conftest import DATIVO

SECRET = "pa55-w0rd-xyzzy"
TOKEN = "tok-3141592653"


def test_a_second_run_of_a_running_job_is_refused(home, env, write_job, dativo):
    job = write_job(source={"records": 10, "sleep_after": 2, "sleep_seconds": 120})
    first = subprocess.Popen([DATIVO, "run", str(job)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while len(psutil.Process(first.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        second = dativo("run", job)
        assert second.returncode == 3
        assert "job acme/job is already running" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        first.terminate()
        first.communicate(timeout=30)
    store = open_store(home)
    assert [r.status for r in store.list_runs()] == ["interrupted"]  # the refusal left no run
    store.close()


def test_a_lock_whose_holder_died_is_recovered(home, write_job, dativo):
    dead = subprocess.Popen(["true"])
    dead.wait()
    store = open_store(home)
    store.acquire_lock("acme/job", "run-of-a-dead-process")
    store._db.execute("UPDATE locks SET pid = ?", (dead.pid,))  # as if that process held it
    store.close()
    result = dativo("run", write_job(source={"records": 3}))
    assert result.returncode == 0, result.stderr
    assert "marked abandoned the runs of a dativo that died: run-of-a-dead-process" in result.stderr


def test_secrets_reach_no_argument_log_history_or_leftover_file(tmp_path, home, env, write_job):
    env = {**env, "TAP_PASSWORD": SECRET}
    job = write_job(
        source={
            "records": 50,
            "password": "${TAP_PASSWORD}",
            "sleep_after": 20,
            "sleep_seconds": 2,
            "print_password": True,
        },
        target={"api_token": TOKEN, "fail_after": 30, "print_token": True},
    )
    assert SECRET not in job.read_text()
    run = subprocess.Popen(
        [DATIVO, "-v", "run", str(job)],  # -v: the connectors' INFO lines on stderr too
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen_args = []
    config_modes = []
    deadline = time.monotonic() + 20
    while run.poll() is None and time.monotonic() < deadline:
        for child in psutil.Process(run.pid).children(recursive=True):
            try:
                argv = child.cmdline()
            except psutil.Error:
                continue
            seen_args.append(" ".join(argv))
            configs = [a for a in argv if a.endswith("-config.json")]
            config_modes += [
                (Path(c).stat().st_mode & 0o777, Path(c).parent.stat().st_mode & 0o777)
                for c in configs
                if Path(c).exists()
            ]
        time.sleep(0.05)
    stdout, stderr = run.communicate(timeout=30)
    assert run.returncode == 1  # the target fails: its error path is checked too
    assert seen_args and not [a for a in seen_args if SECRET in a or TOKEN in a]
    assert config_modes and set(config_modes) == {(0o600, 0o700)}
    assert "connecting with password ***" in stderr
    assert "token is ***" in stderr  # the failing target's stderr tail is redacted too
    (run_log,) = (home / "logs" / "acme" / "job").glob("*.log")
    assert "connecting with password ***" in run_log.read_text()
    for secret in (SECRET, TOKEN):
        assert secret not in stdout + stderr
        assert secret not in (home / "dativo.db").read_bytes().decode(errors="replace")
    leftovers = [
        p
        for p in home.rglob("*")
        if p.is_file() and (SECRET.encode() in p.read_bytes() or TOKEN.encode() in p.read_bytes())
    ]
    assert leftovers == []
    assert list((home / "tmp").iterdir()) == []
