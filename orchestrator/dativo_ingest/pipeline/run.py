"""One run of a job: start both connectors, relay, persist confirmed state, record history."""

from __future__ import annotations

import contextlib
import os
import random
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dativo_ingest.config import Job
from dativo_ingest.contracts.quarantine import Quarantine
from dativo_ingest.contracts.report import contract_summary, log_drift
from dativo_ingest.exceptions import DativoError, RunFailedError, RunInterruptedError
from dativo_ingest.install.programs import program_for
from dativo_ingest.logs import connector_level, get_logger
from dativo_ingest.logs.runlog import RunLog, prune_logs, retention_days, run_log_path
from dativo_ingest.pipeline.confirmed import ConfirmedStates
from dativo_ingest.pipeline.progress import (
    DEFAULT_PROGRESS_SECONDS,
    PROGRESS_FILE_VARIABLE,
    RunProgress,
    human_bytes,
    resource_summary,
    stream_counts,
)
from dativo_ingest.pipeline.progress import report as report_progress
from dativo_ingest.pipeline.relay import CHUNK_SIZE
from dativo_ingest.pipeline.signals import (
    DEFAULT_GRACE_SECONDS,
    SignalForwarder,
    forward_signals,
    wait_unless_signalled,
)
from dativo_ingest.pipeline.stderr import StderrTail
from dativo_ingest.pipeline.transient import transient_reason
from dativo_ingest.pipeline.watchdog import Limits, Stall, Watchdog
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
    progress_seconds: float = DEFAULT_PROGRESS_SECONDS
    attempt: int | None = None  # given by an outer retry (a worker): dativo does not retry


def run_job(job: Job, store: StateStore, options: RunOptions) -> RunRecord:
    """Run ``job``; under its ``retry`` policy, a transient failure is run again from the
    latest confirmed state, after a growing delay. Returns the last attempt's history record;
    raises a DativoError if no attempt succeeded (every attempt's record is stored). With
    ``options.attempt`` (an outer retry, such as a worker's), only that attempt runs."""
    abandoned = store.mark_abandoned_runs()
    if abandoned:
        log.warning("marked abandoned the runs of a dativo that died: %s", ", ".join(abandoned))
    if options.attempt is not None:
        return _attempt(job, store, options, options.attempt, None)
    policy = job.definition.retry
    attempts = policy.attempts if policy is not None else 1
    attempt, reason = 1, None
    while True:
        try:
            return _attempt(job, store, options, attempt, reason)
        except RunFailedError as exc:
            if policy is None or exc.transient is None or attempt >= attempts:
                raise
            delay = policy.delay(attempt, random.random())
            log.warning(
                "attempt %d of %d failed (%s); attempt %d starts in %.1fs from the latest "
                "confirmed state",
                attempt,
                attempts,
                exc.transient,
                attempt + 1,
                delay,
            )
            wait_unless_signalled(delay)
            attempt, reason = attempt + 1, exc.transient


def _attempt(
    job: Job, store: StateStore, options: RunOptions, attempt: int, retry_reason: str | None
) -> RunRecord:
    """One run of ``job``, its own history record (``attempt``: its number under ``retry``)."""
    run_id = new_run_id()
    prune_logs(options.home / "logs", retention_days())
    stale = store.acquire_lock(job.state_id, run_id)
    run_log = RunLog(
        run_log_path(options.home, job.state_id, run_id), run_id, job.state_id, job.redact
    )
    if stale is not None:
        log.warning(
            "took over the lock of run %s (pid %d), which is no longer running",
            stale.run_id,
            stale.pid,
        )
    record = RunRecord(
        run_id,
        job.state_id,
        str(job.file),
        utc_now(),
        attempt=attempt,
        retry_reason=retry_reason,
        log_path=str(run_log.path),
        worker=worker_name(),
    )
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
        run_log.close(record.error)
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
    target_runtime = effective_runtime(
        job.target.runtime, job.definition.runtime, target_program.runtime
    )
    tap_runtime = effective_runtime(job.source.runtime, job.definition.runtime, tap_program.runtime)
    env = {
        **os.environ,
        "DATIVO_TENANT_ID": job.definition.tenant_id,
        "DATIVO_LOG_LEVEL": connector_level(),
    }
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
        quarantine=Quarantine(
            options.home / "quarantine" / job.state_id / record.run_id, record.run_id
        ),
    )

    log.info("run %s: %s -> %s", record.run_id, job.source.name, job.target.name)
    context = {"env": env, "workdir": workdir, "labels": labels}
    prepare_connector(target_program, target_runtime)
    prepare_connector(tap_program, tap_runtime)
    # signals are handled from before the first connector starts: none can end dativo
    # while its connectors run on without it
    with forward_signals([], options.grace_seconds) as signals:
        target = _start(target_program, wiring.target_args, target_runtime, None, context)
        try:
            tap = _start(tap_program, wiring.tap_args, tap_runtime, subprocess.DEVNULL, context)
        except RunFailedError:
            target.stop(0)
            raise
        signals.attach([tap, target])
        _Supervisor(job, store, options, record, tap, target, wiring, signals).run()


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
        signals: SignalForwarder,
    ) -> None:
        self.job, self.record, self.options = job, record, options
        self.signals = signals
        self.tap, self.target = tap, target
        self.tap_log = StderrTail(tap.name, job.redact, "source")
        self.target_log = StderrTail(target.name, job.redact, "target")
        self.scanner = wiring.counter
        self.events = wiring.events
        self.enforcer = wiring.enforcer
        self.confirmed = ConfirmedStates(
            store,
            job.state_id,
            record.run_id,
            target.name,
            self._stop_tracking_source_states,
            wiring.parse_target_line,
        )
        self.store = store
        self.relay = wiring.make_relay(tap.stdout.fileno(), target.stdin.fileno())
        reported = wiring.events.source_counts if wiring.events else self.tap_log.records_per_stream
        self.progress = RunProgress(
            lambda: (self.scanner.records, self.relay.bytes_in),
            lambda: stream_counts(self.scanner, reported),
            lambda: self.confirmed.saved,
            options.progress_seconds,
        )
        self.relay_done = threading.Event()
        self.started = time.monotonic()
        self.target_quit_early = False
        self.stall: Stall | None = None
        self.watchdog = Watchdog(
            Limits(job.definition.timeout, job.definition.idle_timeout),
            self.relay,
            lambda: (self.tap.returncode is None, self.target.returncode is None),
            self._stalled,
        )

    def run(self) -> None:
        self.tap.monitor()
        self.target.monitor()
        readers = [
            _thread(self.confirmed.consume, self.target.stdout),
            _thread(self.tap_log.consume, self.tap.stderr),
            _thread(self.target_log.consume, self.target.stderr),
        ]
        _thread(self._watch_target)
        self.watchdog.start()
        self.progress.start()
        try:
            self._relay_and_wait()
        finally:
            self.watchdog.done()
            for process in (self.tap, self.target):
                if process.returncode is None:
                    process.stop(0)  # after a freeze: the target ends without committing
                process.kill_leftovers()
            for reader in readers:
                reader.join(_JOIN_SECONDS)
            self.progress.stop()
            if self.enforcer is not None:
                self.enforcer.quarantine.close()
                self.record.contracts = self.enforcer.report()
                log_drift(self.record.contracts, self.enforcer.quarantine)
        self._record_figures()
        report_progress(
            os.environ.get(PROGRESS_FILE_VARIABLE), self.record.records, self.record.bytes
        )
        self.record.duration_s = round(time.monotonic() - self.started, 3)
        self._keep_config_updates()
        self._raise_for_outcome(self.signals.received)
        self._save_source_state_if_unconfirmed()
        log.info(self._summary())

    def _relay_and_wait(self) -> None:
        self.relay.run()
        self.relay_done.set()
        self.watchdog.relay_finished()
        if self.relay.destination_closed:
            self.target_quit_early = True
            _thread(_drain, self.tap.stdout)  # a container's output must flow for it to stop
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

    def _stalled(self, stall: Stall) -> None:
        """Stop the side that stalled (the source when the run timed out): the other side
        ends on its own, keeping what it confirmed; anything left is killed after grace."""
        self.stall = stall
        side = self.target if stall.side == "target" else self.tap
        log.error("%s; stopping %s", self._stall_message(stall), side.name)
        side.signal_group(signal.SIGTERM)
        killer = threading.Timer(self.options.grace_seconds, self._kill_both)
        killer.daemon = True
        killer.start()

    def _kill_both(self) -> None:
        for process in (self.tap, self.target):
            if process.returncode is None:
                process.kill_leftovers()

    def _stall_message(self, stall: Stall) -> str:
        sent = f"{self.scanner.records:,} records ({human_bytes(self.relay.bytes_in)})"
        if stall.side == "run":
            return f"{stall.what}; {self.tap.name} had sent {sent}"
        if stall.side == "source" and not self.relay.bytes_in:
            return f"{self.tap.name} stalled: {stall.what}, and nothing since it started"
        if stall.side == "source":
            return f"{self.tap.name} stalled: {stall.what}; before that it sent {sent}"
        confirmed = self.confirmed.last_saved_at
        last = (
            f"it last confirmed a state {time.monotonic() - confirmed:.0f}s before"
            if confirmed is not None
            else "it had confirmed no state"
        )
        return f"{self.target.name} stalled: {stall.what}; {last}; {self.tap.name} sent {sent}"

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
        record.streams = stream_counts(self.scanner, self.tap_log.records_per_stream)
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
        if self.stall is not None:
            side = self.target if self.stall.side == "target" else self.tap
            logs = self.target_log if side is self.target else self.tap_log
            transient = None if self.stall.side == "run" else f"{side.name} stalled"
            raise RunFailedError(
                f"{self._stall_message(self.stall)}\n{logs.report()}", side.name, transient
            )
        if self.events is not None and self.events.errors:
            message, failure_type = self.events.errors[0]
            retryable = failure_type == "transient_error"
            retry = "may be retried" if retryable else "not retryable"
            raise RunFailedError(
                f"{self.tap.name} reported an error ({failure_type}, {retry}): "
                f"{self.job.redact(message)}\n{self.tap_log.report()}",
                self.tap.name,
                f"{self.tap.name} reported a transient_error" if retryable else None,
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
        exit_reason = process.exit_reason()
        reason = why or exit_reason or f"failed with exit code {code}"
        saved = (
            f"{self.confirmed.saved} state(s) confirmed by {self.target.name} were saved"
            if self.confirmed.saved
            else "no new state was saved"
        )
        transient = None if why else transient_reason(process.name, code, exit_reason, logs.tail)
        raise RunFailedError(
            f"{process.name} {reason}; {saved}\n{logs.report()}", process.name, transient
        )

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
            f"{resource_summary(record)}{statuses}{contract_summary(record.contracts)}"
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


def _drain(stream: IO[bytes]) -> None:
    """Read ``stream`` to its end, discarding what comes."""
    with contextlib.suppress(OSError, ValueError):
        while os.read(stream.fileno(), CHUNK_SIZE):
            pass


def _thread(target: Callable[..., None], *args: IO[bytes]) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread
