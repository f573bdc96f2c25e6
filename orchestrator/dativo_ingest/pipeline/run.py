"""One run of a job: start both connectors, relay, persist confirmed state, record history."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dativo_ingest.config import Job
from dativo_ingest.exceptions import DativoError, RunFailedError, RunInterruptedError
from dativo_ingest.install.programs import program_for
from dativo_ingest.logging import get_logger
from dativo_ingest.pipeline.confirmed import ConfirmedStates
from dativo_ingest.pipeline.progress import ProgressLine, human_bytes, resource_summary
from dativo_ingest.pipeline.signals import DEFAULT_GRACE_SECONDS, forward_signals
from dativo_ingest.pipeline.stderr import StderrTail
from dativo_ingest.pipeline.wiring import Wiring, wire
from dativo_ingest.pipeline.workdir import private_workdir
from dativo_ingest.runtime import (
    ConnectorProcess,
    Launch,
    prepare_connector,
    start_connector,
)
from dativo_ingest.runtime.options import RuntimeOptions, effective_runtime
from dativo_ingest.runtime.program import Program
from dativo_ingest.state import RunRecord, StateStore
from dativo_ingest.state.locks import worker_name
from dativo_ingest.state.store import new_run_id, utc_now

log = get_logger(__name__)
_JOIN_SECONDS = 5.0


@dataclass(frozen=True)
class RunOptions:
    """How to run a job."""

    home: Path
    full_refresh: bool = False
    refresh_catalog: bool = False
    grace_seconds: float = DEFAULT_GRACE_SECONDS


def run_job(job: Job, store: StateStore, options: RunOptions) -> RunRecord:
    """Run ``job`` once. Returns its history record; raises a DativoError if it did not succeed
    (the record is stored either way)."""
    run_id = new_run_id()
    stale = store.acquire_lock(job.state_id, run_id)
    if stale is not None:
        log.warning(
            "took over the lock of run %s (pid %d), which is no longer running",
            stale.run_id,
            stale.pid,
        )
    record = RunRecord(run_id, job.state_id, str(job.file), utc_now(), worker=worker_name())
    started = time.monotonic()
    try:
        store.record_run(record)
        with private_workdir(options.home) as workdir:
            _execute(job, store, options, workdir, record)
        record.status = "succeeded"
    except RunInterruptedError as exc:
        record.status, record.error = "interrupted", str(exc)
        raise
    except DativoError as exc:
        record.status, record.error = "failed", job.redact(str(exc))
        raise
    finally:
        record.ended_at = utc_now()
        record.duration_s = round(time.monotonic() - started, 3)
        record.orchestrator_peak_rss_bytes = _peak_rss_bytes()
        store.record_run(record)
        store.release_lock(job.state_id, run_id)
    return record


def _execute(
    job: Job, store: StateStore, options: RunOptions, workdir: Path, record: RunRecord
) -> None:
    tap_program = program_for(job.source, "source", options.home)
    target_program = program_for(job.target, "target", options.home)
    stored = None if options.full_refresh else store.get_state(job.state_id)
    if stored is not None:
        log.info("resuming %s from the state saved at %s", job.state_id, stored.updated_at)
    updated = store.get_connector_config(job.state_id, "source")
    if updated is not None:
        log.info("using the config %s updated in an earlier run", job.source.name)
    target_runtime = effective_runtime(job.target.runtime, job.spec.runtime, target_program.runtime)
    tap_runtime = effective_runtime(job.source.runtime, job.spec.runtime, tap_program.runtime)
    env = {**os.environ, "DATIVO_TENANT_ID": job.spec.tenant_id}
    labels = {"dativo.run_id": record.run_id, "dativo.state_id": job.state_id}
    wiring = wire(
        job,
        tap_program,
        target_program,
        stored,
        workdir,
        {**job.source.config, **(updated or {})},
        tap_launch=Launch(tap_runtime, workdir, env, labels),
        full_refresh=options.full_refresh,
        refresh_catalog=options.refresh_catalog,
    )

    log.info("run %s: %s -> %s", record.run_id, job.source.name, job.target.name)
    context = {"env": env, "workdir": workdir, "labels": labels}
    prepare_connector(target_program, target_runtime)
    prepare_connector(tap_program, tap_runtime)
    target = _start(target_program, wiring.target_args, target_runtime, None, context)
    try:
        tap = _start(tap_program, wiring.tap_args, tap_runtime, subprocess.DEVNULL, context)
    except RunFailedError:
        target.stop(0)
        raise
    _Supervisor(job, store, options, record, tap, target, wiring).run()


def _start(
    program: Program,
    args: list[Path | str],
    runtime: RuntimeOptions,
    stdin: int | None,
    context: dict[str, Any],
) -> ConnectorProcess:
    try:
        return start_connector(program, args, runtime, stdin=stdin, **context)
    except OSError as exc:
        raise RunFailedError(
            f"cannot start {program.name}: {exc.strerror or exc}", program.name
        ) from None


class _Supervisor:
    """Drives a started pair of connectors to the end and decides the outcome."""

    def __init__(
        self,
        job: Job,
        store: StateStore,
        options: RunOptions,
        record: RunRecord,
        tap: ConnectorProcess,
        target: ConnectorProcess,
        wiring: Wiring,
    ) -> None:
        self.job, self.record, self.options = job, record, options
        self.tap, self.target = tap, target
        self.tap_log = StderrTail(tap.name, job.redact)
        self.target_log = StderrTail(target.name, job.redact)
        self.scanner = wiring.counter
        self.events = wiring.events
        self.confirmed = ConfirmedStates(
            store,
            job.state_id,
            record.run_id,
            target.name,
            self._stop_tracking_source_states,
            wiring.parse_target_line,
        )
        self.store = store
        self.progress = ProgressLine()
        self.relay = wiring.make_relay(
            tap.stdout.fileno(), target.stdin.fileno(), self.progress.update
        )
        self.relay_done = threading.Event()
        self.started = time.monotonic()
        self.target_quit_early = False

    def run(self) -> None:
        self.tap.monitor()
        self.target.monitor()
        readers = [
            _thread(self.confirmed.consume, self.target.stdout),
            _thread(self.tap_log.consume, self.tap.stderr),
            _thread(self.target_log.consume, self.target.stderr),
        ]
        _thread(self._watch_target)
        with forward_signals([self.tap, self.target], self.options.grace_seconds) as signals:
            try:
                self._relay_and_wait()
            finally:
                for process in (self.tap, self.target):
                    if process.returncode is None:
                        process.stop(0)
                    process.kill_leftovers()
                for reader in readers:
                    reader.join(_JOIN_SECONDS)
                self.progress.clear()
        self._record_figures()
        self.progress.report(self.record.records, self.record.bytes)
        self.record.duration_s = round(time.monotonic() - self.started, 3)
        self._keep_config_updates()
        self._raise_for_outcome(signals.received)
        self._save_source_state_if_unconfirmed()
        log.info(self._summary())

    def _relay_and_wait(self) -> None:
        self.relay.run()
        self.relay_done.set()
        if self.relay.destination_closed:
            self.target_quit_early = True
            self.tap.stop(self.options.grace_seconds)
        tap_exit = self.tap.wait()
        dropped = self.relay.finish(source_succeeded=tap_exit == 0)
        if dropped:
            log.warning(
                "dropped the incomplete last line (%d bytes) of %s, which failed",
                dropped,
                self.tap.name,
            )
        self.target.close_stdin()
        self.target.wait()

    def _stop_tracking_source_states(self) -> None:
        """The target confirms states itself, so the tap's last STATE will not be needed."""
        self.scanner.track_states = False

    def _watch_target(self) -> None:
        """Stop the tap if the target exits while the relay still runs (the tap may be idle)."""
        self.target.wait()
        if not self.relay_done.is_set():
            self.target_quit_early = True
            self.tap.stop(self.options.grace_seconds)

    def _record_figures(self) -> None:
        record = self.record
        record.source_exit, record.target_exit = self.tap.returncode, self.target.returncode
        record.records, record.bytes = self.scanner.records, self.relay.bytes_in
        record.states_saved = self.confirmed.saved
        record.resources = {
            side: {
                "connector": process.name,
                "peak_rss_bytes": usage.peak_rss_bytes,
                "cpu_s": usage.cpu_seconds and round(usage.cpu_seconds, 3),
                "exit_reason": process.exit_reason(),
            }
            for side, process in (("source", self.tap), ("target", self.target))
            for usage in (process.resources(),)
        }
        record.streams = dict(
            getattr(self.scanner, "per_stream", None) or self.tap_log.records_per_stream
        )
        if self.events is not None:
            for stream, counted in sorted(self.events.source_counts.items()):
                relayed = record.streams.get(stream, 0)
                if counted != relayed:
                    log.warning(
                        "%s reported %d records for %s; dativo relayed %d",
                        self.tap.name,
                        counted,
                        stream,
                        relayed,
                    )

    def _keep_config_updates(self) -> None:
        """A config the source replaced (Airbyte CONTROL) is kept for the next run."""
        if self.events is not None and self.events.config_updates:
            self.store.set_connector_config(
                self.job.state_id, "source", self.events.config_updates[-1]
            )
            log.info("%s updated its config; the next run uses it", self.tap.name)

    def _raise_for_outcome(self, signal_received: int | None) -> None:
        if signal_received is not None:
            raise RunInterruptedError(signal_received)
        if self.confirmed.error is not None:
            raise self.confirmed.error
        if self.events is not None and self.events.errors:
            message, failure_type = self.events.errors[0]
            retry = "not retryable" if failure_type == "config_error" else "may be retried"
            raise RunFailedError(
                f"{self.tap.name} reported an error ({failure_type}, {retry}): "
                f"{self.job.redact(message)}\n{self.tap_log.report()}",
                self.tap.name,
            )
        tap_exit, target_exit = self.tap.returncode, self.target.returncode
        if target_exit != 0 or self.target_quit_early:
            self._fail(
                self.target,
                self.target_log,
                target_exit,
                "exited before reading the whole stream" if target_exit == 0 else "",
            )
        if tap_exit != 0:
            self._fail(self.tap, self.tap_log, tap_exit, "")

    def _fail(
        self, process: ConnectorProcess, logs: StderrTail, code: int | None, why: str
    ) -> None:
        reason = why or process.exit_reason() or f"failed with exit code {code}"
        saved = (
            f"{self.confirmed.saved} state(s) confirmed by {self.target.name} were saved"
            if self.confirmed.saved
            else "no new state was saved"
        )
        raise RunFailedError(f"{process.name} {reason}; {saved}\n{logs.report()}", process.name)

    def _save_source_state_if_unconfirmed(self) -> None:
        """Both sides exited 0 and the target confirmed nothing: it committed all it was sent,
        so the tap's last state is safe to keep."""
        if self.confirmed.saved or self.scanner.last_state is None:
            return
        if self.store.set_state(self.job.state_id, self.scanner.last_state, self.record.run_id):
            self.record.states_saved = 1
            log.info(
                "%s confirmed no state; saved %s's last STATE", self.target.name, self.tap.name
            )

    def _summary(self) -> str:
        record = self.record
        per_stream = ", ".join(f"{s}={n:,}" for s, n in sorted(record.streams.items()))
        streams = f" ({per_stream})" if per_stream else ""
        state = (
            f"state saved ({record.states_saved} checkpoint(s))"
            if record.states_saved
            else "no state to save"
        )
        statuses = ""
        if self.events is not None and self.events.stream_status:
            listed = ", ".join(f"{s} {v}" for s, v in sorted(self.events.stream_status.items()))
            statuses = f"; stream status: {listed}"
        return (
            f"run {record.run_id} succeeded in {record.duration_s:.2f}s: "
            f"{record.records:,} records{streams}, {human_bytes(record.bytes)}; {state}; "
            f"{resource_summary(record)}{statuses}"
        )


def _peak_rss_bytes() -> int:
    """This process's peak RSS. ``VmHWM``, not ``ru_maxrss``: Linux carries ``ru_maxrss`` over
    exec, so it would report the size of whatever process spawned dativo."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _thread(target: Callable[..., None], *args: IO[bytes]) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread
