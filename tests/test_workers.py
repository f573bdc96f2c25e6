"""The Temporal side without a server: what a submission carries, retry policies, how a
`dativo run` exit code becomes a retryable or final error, the state-store registry."""

from __future__ import annotations

import subprocess
from collections import deque
from datetime import timedelta

import pytest
import yaml

from dativo_ingest.config.models import JobConfig
from dativo_ingest.exceptions import ConfigurationError, JobFileError
from dativo_ingest.schema import validate
from dativo_ingest.state import open_store
from dativo_ingest.workers.activity import _failure, _job_file
from dativo_ingest.workers.submission import JobSubmission, read_submission, retry_settings
from dativo_ingest.workers.workflow import DEFAULT_ATTEMPTS, retry_policy


def test_a_submission_carries_the_file_with_its_variables_unresolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs").mkdir()
    text = yaml.safe_dump(
        {
            "tenant_id": "acme",
            "name": "orders",
            "source": {"executable": "tap-x", "config": {"password": "${NOT_SET_HERE}"}},
            "target": {"executable": "target-y"},
        }
    )
    (tmp_path / "jobs" / "orders.yaml").write_text(text)
    job = read_submission("jobs/orders.yaml", full_refresh=True, heartbeat_seconds=7)
    assert (job.state_id, job.path, job.contents) == ("acme/orders", "jobs/orders.yaml", text)
    assert (job.full_refresh, job.heartbeat_seconds, job.retry) == (True, 7, None)


def test_a_bad_job_file_is_refused_before_submission(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tenant_id: Acme!\nname: x\nsource: {executable: a}\n")
    with pytest.raises(JobFileError) as error:
        read_submission(bad)
    assert "tenant_id" in str(error.value) and "target: Field required" in str(error.value)


def test_retry_policy_from_the_jobs_retry_key_or_the_default():
    policy = retry_policy({"attempts": 3, "initial_delay": 2, "multiplier": 3, "max_delay": 30})
    assert (policy.maximum_attempts, policy.backoff_coefficient) == (3, 3)
    assert (policy.initial_interval, policy.maximum_interval) == (
        timedelta(seconds=2),
        timedelta(seconds=30),
    )
    default = retry_policy(None)
    assert default.maximum_attempts == DEFAULT_ATTEMPTS
    assert default.non_retryable_error_types == ["ConfigurationError"]


@pytest.mark.parametrize(
    ("code", "retry", "kind", "final"),
    [
        (2, {"attempts": 3}, "ConfigurationError", True),  # never retried
        (3, None, "JobLockedError", False),  # another run holds the lock: wait
        (143, None, "RunInterrupted", False),  # the worker is stopping
        (-9, None, "RunInterrupted", False),
        (1, None, "RunFailed", True),  # a connector failed: only with `retry:`
        (1, {}, "RunFailed", False),
    ],
)
def test_exit_codes_become_retryable_or_final_errors(code, retry, kind, final):
    job = JobSubmission("acme/x", "x.yaml", "", retry=retry)
    error = _failure(code, deque(["the tail of the log"]), job)
    assert (error.type, error.non_retryable) == (kind, final)
    assert "the tail of the log" in error.message


@pytest.mark.parametrize(("exits", "final"), [({0, 3}, False), ({2}, True), ({0, 4}, True)])
def test_a_connector_configuration_or_authentication_error_is_never_retried(exits, final):
    job = JobSubmission("acme/x", "x.yaml", "", retry={"attempts": 5})
    assert _failure(1, deque(), job, exits).non_retryable is final


def test_an_unknown_state_url_is_refused_without_echoing_it():
    with pytest.raises(ConfigurationError, match="unknown scheme mysql://") as error:
        open_store(url="mysql://user:hunter2@db/x")
    assert "hunter2" not in str(error.value)
    with pytest.raises(ConfigurationError, match="not a URL"):
        open_store(url="host=db password=hunter2")


def test_sqlite_url_selects_the_sqlite_backend(tmp_path):
    store = open_store(url=f"sqlite://{tmp_path / 'state.db'}")
    store.set_state("a/b", {"x": 1})
    store.close()
    assert (tmp_path / "state.db").exists()


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        (None, None),
        (
            True,
            {"attempts": 3.0, "initial_delay": 10.0, "multiplier": 2.0, "max_delay": 300.0},
        ),
        (
            {"attempts": 4, "initial_delay": "30s", "max_delay": "2m", "jitter": 0.1},
            {"attempts": 4.0, "initial_delay": 30.0, "multiplier": 2.0, "max_delay": 120.0},
        ),
    ],
)
def test_the_jobs_retry_policy_becomes_the_activitys(retry, expected):
    job = {
        "tenant_id": "acme",
        "name": "orders",
        "source": {"executable": "tap-x"},
        "target": {"executable": "target-y"},
        **({"retry": retry} if retry is not None else {}),
    }
    assert retry_settings(validate(JobConfig, job)) == expected


def test_a_job_file_left_by_a_killed_worker_is_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("DATIVO_HOME", str(tmp_path / "home"))
    (tmp_path / "jobs").mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = tmp_path / "jobs" / f".dativo-submitted-run-{dead.pid}-abc-x.yaml"
    left.write_text("tenant_id: acme")
    job = JobSubmission("acme/x", "jobs/x.yaml", "tenant_id: acme\n")
    with _job_file(tmp_path, job) as (file, _):
        assert file.parent == tmp_path / "jobs" and file.read_text() == job.contents
        assert oct(file.stat().st_mode & 0o777) == "0o600"
        assert not left.exists()
    assert list((tmp_path / "jobs").iterdir()) == []
