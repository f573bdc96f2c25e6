"""One run of a job: start both connectors, relay, persist confirmed state, record history."""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from dativo_ingest.config import Connector, Job
from dativo_ingest.contracts.quarantine import Quarantine
from dativo_ingest.contracts.report import contract_summary, log_drift
from dativo_ingest.exceptions import DativoError, RunFailedError, RunInterruptedError
from dativo_ingest.install.programs import program_for
from dativo_ingest.logs import connector_level, get_logger
from dativo_ingest.logs.runlog import RunLog, prune_logs, retention_days, run_log_path
from dativo_ingest.pipeline.confirmed import ConfirmedStates
from dativo_ingest.pipeline.hops import Hop, drain, stalled_reader
from dativo_ingest.pipeline.progress import (
    DEFAULT_PROGRESS_SECONDS,
    PROGRESS_FILE_VARIABLE,
    RunProgress,
    human_bytes,
    resource_summary,
    stream_counts,
)
from dativo_ingest.pipeline.progress import report as report_progress
from dativo_ingest.pipeline.signals import (
    DEFAULT_GRACE_SECONDS,
    SignalForwarder,
    forward_signals,
    wait_unless_signalled,
)
from dativo_ingest.pipeline.stderr import StderrTail
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
from dativo_ingest.state import RunRecord, StateStore, StoredState
from dativo_ingest.state.locks import worker_name
from dativo_ingest.state.store import new_run_id, state_point, utc_now

log = get_logger(__name__)
_JOIN_SECONDS = 5.0


class RunOptions(NamedTuple):
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
    mapper_programs = [program_for(mapper, "mapper", options.home) for mapper in job.transforms]
    stored = None if options.full_refresh else store.get_state(job.state_id)
    if stored is not None:
        log.info("resuming %s from the state saved at %s", job.state_id, stored.updated_at)
    updated = store.get_connector_config(job.state_id, "source")
    if updated is not None:
        log.info("using the config %s updated in an earlier run", job.source.name)
    tap_runtime = _runtime(job, job.source, tap_program)
    target_runtime = _runtime(job, job.target, target_program)
    mapper_runtimes = [
        _runtime(job, mapper, program)
        for mapper, program in zip(job.transforms, mapper_programs, strict=True)
    ]
    env = {
        **os.environ,
        "DATIVO_TENANT_ID": job.definition.tenant_id,
        "DATIVO_LOG_LEVEL": connector_level(),
        # a target that marks its commits (target-iceberg) skips what an earlier run of the
        # job committed after the point the source resumes from: exactly once across runs
        "DATIVO_RUN_ID": record.run_id,
        "DATIVO_STATE_ID": job.state_id,
        "DATIVO_RESUME_POINT": _resume_point(stored, options.full_refresh, record.run_id),
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
        mappers=mapper_programs,
    )

    chain = " -> ".join(c.name for c in (job.source, *job.transforms, job.target))
    log.info("run %s: %s", record.run_id, chain)
    context = {"env": env, "workdir": workdir, "labels": labels}
    # downstream first: the tap starts last, once everything that reads its output runs
    launches = [
        (target_program, wiring.target_args, target_runtime, None),
        *(
            (program, args, runtime, None)
            for program, args, runtime in zip(
                mapper_programs, wiring.transform_args, mapper_runtimes, strict=True
            )
        ),
        (tap_program, wiring.tap_args, tap_runtime, subprocess.DEVNULL),
    ]
    for program, _, runtime, _ in launches:
        prepare_connector(program, runtime)
    # signals are handled from before the first connector starts: none can end dativo
    # while its connectors run on without it
    with forward_signals([], options.grace_seconds) as signals:
        target, *mappers, tap = _start_all(launches, context)
        signals.attach([tap, *mappers, target])
        _Supervisor(job, store, options, record, tap, mappers, target, wiring, signals).run()


def _runtime(job: Job, connector: Connector, program: Program) -> RuntimeOptions:
    return effective_runtime(connector.runtime, job.definition.runtime, program.runtime)


Launchable = tuple[Program, list[Path | str], RuntimeOptions, int | None]


def _start_all(launches: Sequence[Launchable], context: dict[str, Any]) -> list[ConnectorProcess]:
    """Start each program in order; if one cannot start, those already started are stopped."""
    started: list[ConnectorProcess] = []
    for program, args, runtime, stdin in launches:
        try:
            started.append(start_connector(program, args, runtime, stdin=stdin, **context))
        except (OSError, DativoError) as exc:
            for process in started:
                process.stop(0)
            if isinstance(exc, DativoError):
                raise
            raise RunFailedError(
                f"cannot start {program.name}: {exc.strerror or exc}", program.name
            ) from None
    return started


def _resume_point(stored: StoredState | None, full_refresh: bool, run_id: str) -> str:
    """Where the source resumes: the stored state's point, ``start`` of the job's first load,
    or a point of its own for a full refresh (a new load no earlier commit covers)."""
    if full_refresh:
        return f"refresh:{run_id}"
    return "start" if stored is None else state_point(stored.value)


class _Supervisor:
    """Drives started connectors to the end and decides the outcome: the tap, relayed into
    the first of ``downstream`` (the mappers, in order, then the target), each of which is
    piped into the next by a ``Hop``."""

    def __init__(
        self,
        job: Job,
        store: StateStore,
        options: RunOptions,
        record: RunRecord,
        tap: ConnectorProcess,
        mappers: list[ConnectorProcess],
        target: ConnectorProcess,
        wiring: Wiring,
        signals: SignalForwarder,
    ) -> None:
        self.job, self.record, self.options = job, record, options
        self.signals = signals
        self.tap, self.target = tap, target
        self.mappers = mappers
        self.downstream = [*mappers, target]
        self.tap_log = StderrTail(tap.name, job.redact, "source")
        self.target_log = StderrTail(target.name, job.redact, "target")
        self.logs = {p: StderrTail(p.name, job.redact, "transform") for p in mappers}
        self.logs |= {tap: self.tap_log, target: self.target_log}
        self.hops = [Hop(a, b) for a, b in zip(mappers, self.downstream[1:], strict=True)]
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
        self.relay = wiring.make_relay(tap.stdout.fileno(), self.downstream[0].stdin.fileno())
        reported = wiring.events.source_counts if wiring.events else self.tap_log.records_per_stream
        self.progress = RunProgress(
            lambda: (self.scanner.records, self.relay.bytes_in),
            lambda: stream_counts(self.scanner, reported),
            lambda: self.confirmed.saved,
            options.progress_seconds,
        )
        self.input_closed = threading.Event()  # the end of input sent to downstream[0]
        self.started = time.monotonic()
        self.quit_early: set[ConnectorProcess] = set()  # ended while their input still flowed
        self.exited_at: dict[ConnectorProcess, float] = {}
        self.stall: Stall | None = None
        self.stalled = tap  # the process the stall stopped
        self.watchdog = Watchdog(
            Limits(job.definition.timeout, job.definition.idle_timeout),
            self.relay,
            lambda: (
                self.tap.returncode is None,
                any(process.returncode is None for process in self.downstream),
            ),
            self._stalled,
        )

    def run(self) -> None:
        processes = [self.tap, *self.downstream]
        for process in processes:
            process.monitor()
        readers = [
            _thread(self.confirmed.consume, self.target.stdout),
            *(_thread(self.logs[p].consume, p.stderr) for p in processes),
        ]
        watchers = [_thread(self._watch_downstream, i) for i in range(len(self.downstream))]
        for hop in self.hops:
            hop.start()
        self.watchdog.start()
        self.progress.start()
        try:
            self._relay_and_wait()
        finally:
            self.watchdog.done()
            for process in processes:
                if process.returncode is None:
                    process.stop(0)  # after a freeze: the target ends without committing
                process.kill_leftovers()
            for thread in (*readers, *watchers):
                thread.join(_JOIN_SECONDS)
            for hop in self.hops:
                hop.join(_JOIN_SECONDS)
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
        self.watchdog.relay_finished()
        if self.relay.destination_closed:
            self.quit_early.add(self.downstream[0])
            _thread(drain, self.tap.stdout)  # a container's output must flow for it to stop
            self.tap.stop(self.options.grace_seconds)
        tap_exit = self.tap.wait()
        dropped = self.relay.finish(source_succeeded=tap_exit == 0)
        if dropped:
            log.warning(
                "dropped the incomplete last line (%d bytes) of %s, which failed",
                dropped,
                self.tap.name,
            )
        self.input_closed.set()  # before the end of input reaches it: it may exit at once
        self.downstream[0].close_stdin()
        for process in self.downstream:
            process.wait()

    def _stalled(self, stall: Stall) -> None:
        """Stop the process that stalled (the source when the run timed out; past the
        relay, the one holding up the chain): the rest end on their own, keeping what the
        target confirmed; anything left is killed after grace."""
        if stall.side == "target":
            since = time.monotonic() - self.job.definition.idle_timeout / 2
            self.stalled = self.downstream[
                stalled_reader(self.relay, self.hops, self.downstream, since)
            ]
        self.stall = stall  # after ``stalled``: the outcome reads both
        log.error("%s; stopping %s", self._stall_message(stall), self.stalled.name)
        self.stalled.signal_group(signal.SIGTERM)
        killer = threading.Timer(self.options.grace_seconds, self._kill_all)
        killer.daemon = True
        killer.start()

    def _kill_all(self) -> None:
        for process in (self.tap, *self.downstream):
            if process.returncode is None:
                process.kill_leftovers()

    def _side(self, process: ConnectorProcess) -> str:
        """``source``, ``target`` or ``transforms[N]``: where ``process`` is in the job."""
        if process in self.mappers:
            return f"transforms[{self.mappers.index(process)}]"
        return "source" if process is self.tap else "target"

    def _stall_message(self, stall: Stall) -> str:
        sent = f"{self.scanner.records:,} records ({human_bytes(self.relay.bytes_in)})"
        if stall.side == "run":
            return f"{stall.what}; {self.tap.name} had sent {sent}"
        if stall.side == "source" and not self.relay.bytes_in:
            return f"{self.tap.name} stalled: {stall.what}, and nothing since it started"
        if stall.side == "source":
            return f"{self.tap.name} stalled: {stall.what}; before that it sent {sent}"
        stalled = self.stalled
        named = (
            f"{stalled.name} ({self._side(stalled)})" if stalled in self.mappers else stalled.name
        )
        target = "it" if stalled is self.target else self.target.name
        confirmed = self.confirmed.last_saved_at
        last = (
            f"{target} last confirmed a state {time.monotonic() - confirmed:.0f}s before"
            if confirmed is not None
            else f"{target} had confirmed no state"
        )
        return f"{named} stalled: {stall.what}; {last}; {self.tap.name} sent {sent}"

    def _stop_tracking_source_states(self) -> None:
        """The target confirms states itself, so the tap's last STATE will not be needed."""
        self.scanner.track_states = False

    def _watch_downstream(self, index: int) -> None:
        """Note when ``downstream[index]`` exits; if its input still flowed, it quit early,
        and the tap is stopped (it may be idle, and nothing would end it)."""
        process = self.downstream[index]
        process.wait()
        self.exited_at[process] = time.monotonic()
        fed = self.input_closed if index == 0 else self.hops[index - 1].done
        if not fed.is_set():
            self.quit_early.add(process)
            self.tap.stop(self.options.grace_seconds)

    def _record_figures(self) -> None:
        record = self.record
        record.source_exit, record.target_exit = self.tap.returncode, self.target.returncode
        record.records, record.bytes = self.scanner.records, self.relay.bytes_in
        record.states_saved = self.confirmed.saved
        stall = self.stall if self.stall is not None and self.stall.side != "run" else None
        record.resources = {
            self._side(process): {
                "connector": process.name,
                "peak_rss_bytes": usage.peak_rss_bytes,
                "cpu_s": usage.cpu_seconds and round(usage.cpu_seconds, 3),
                "exit_reason": process.exit_reason(),
                **({"exit_code": process.returncode} if process in self.mappers else {}),
                **({"stalled": stall.what} if stall and process is self.stalled else {}),
            }
            for process in (self.tap, self.target, *self.mappers)
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
            name = self.stalled.name
            transient = None if self.stall.side == "run" else f"{name} stalled"
            report = self.logs[self.stalled].report()
            raise RunFailedError(f"{self._stall_message(self.stall)}\n{report}", name, transient)
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
        self.quit_early.update(hop.downstream for hop in self.hops if hop.downstream_closed)
        failed = [p for p in self.downstream if p.returncode != 0 or p in self.quit_early]
        if failed:  # the first to end: the others ended because it did
            first = min(failed, key=lambda p: self.exited_at.get(p, float("inf")))
            code = first.returncode
            why = "exited before reading the whole stream" if code == 0 else ""
            self._fail(first, self.logs[first], code, why)
        if self.tap.returncode != 0:
            self._fail(self.tap, self.tap_log, self.tap.returncode, "")

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
        from dativo_ingest.pipeline.transient import transient_reason  # only on failure

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


def _thread(target: Callable[..., None], *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread
