"""One Postgres session loading batches with COPY, one transaction each.

When a stream's first record of a batch arrives, its table is made to fit the stream (created,
new columns, widened types); records are then streamed with COPY as they arrive, so the server
parses them while the target reads on: straight into the table while nothing can conflict,
else into a staging table (see ``stage``). ``commit`` merges the staging tables into their
tables (upsert on the key properties), applies ACTIVATE_VERSION, and commits. Until that
commit nothing of the batch is visible, so a crash at any instant leaves none of it.
"""

from __future__ import annotations

import re
import time
import typing as t
from contextlib import ExitStack, contextmanager

import orjson
import psycopg
from psycopg import sql
from psycopg.adapt import Dumper

from dativo_connector_kit import (
    AuthenticationError,
    ConfigurationError,
    ConnectionError,
    TransientError,
)
from dativo_connector_kit.errors import FailureRule, classify_failure
from target_postgres import statements
from target_postgres.errors import LoadError
from target_postgres.rows import RowMaker, ValueLoadError
from target_postgres.stage import KeySpan, Stage
from target_postgres.tables import Table, prepare_table, read_table

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from target_postgres.settings import Settings
    from target_postgres.streams import StreamSpec

Cursor = psycopg.Cursor[t.Any]

_SESSION = ("SET TimeZone TO 'UTC'", "SET DateStyle TO 'ISO'")
_AUTH_FAILURES = ("password authentication failed", "no password supplied")
_MERGE_SINCE = 150000  # the server version with MERGE
_COPY_CONTEXT = re.compile(r"COPY (.+?), line (\d+)(?:, column ([^:]+))?")


class _JsonDumper(Dumper):
    """Objects and lists go to COPY as JSON text: text and jsonb columns take it, others
    refuse it (naming line and field)."""

    def dump(self, obj: t.Any) -> bytes:
        return orjson.dumps(obj)


class Loader:
    """Loads batches through one connection; see the module docstring."""

    def __init__(self, connection: psycopg.Connection[t.Any], settings: Settings) -> None:
        """Use an open connection (see ``connect``)."""
        self._connection = connection
        self._settings = settings
        self._tables: dict[tuple[str, str], Table] = {}
        self._prepared: dict[str, StreamSpec] = {}  # stream -> the spec its table fits
        self._replaced: set[tuple[str, str]] = set()  # tables load_method overwrite dropped
        # tables holding only rows this run loaded: their key properties and keys' span
        self._loaded: dict[tuple[str, str], tuple[tuple[str, ...], KeySpan]] = {}
        self._stages: dict[str, Stage] = {}  # stream -> its part of the current batch
        self._active: Stage | None = None  # the stage the open COPY writes for
        self._batch_started: int | None = None  # milliseconds since the epoch
        self._staging_tables = 0  # in the current batch
        self._copy_scope: ExitStack | None = None  # the open COPY's cursor and copy
        self._write_row: t.Callable[[t.Sequence[t.Any]], None] = _no_copy  # the open COPY's
        self._copy_lines: list[int] = []  # input line of each row of the open COPY
        self._note_line = self._copy_lines.append
        self._sync_started_at = int(time.time() * 1000)
        self._use_merge = connection.info.server_version >= _MERGE_SINCE
        for kind in (dict, list):
            connection.adapters.register_dumper(kind, _JsonDumper)

    @classmethod
    def connect(cls, settings: Settings) -> Loader:
        """Open the session: UTC, ISO dates."""
        params = {"application_name": "target-postgres", "connect_timeout": "10"}
        params.update(settings.connection)
        try:
            connection = psycopg.connect(**params)
        except psycopg.ProgrammingError as exc:  # a bad keyword in sqlalchemy_url's query
            raise ConfigurationError(f"invalid connection settings: {exc}") from None
        except psycopg.OperationalError as exc:
            raise _connect_error(exc, params) from None
        with connection.cursor() as cursor:
            for statement in _SESSION:
                cursor.execute(statement)
        connection.commit()
        return cls(connection, settings)

    @property
    def connection(self) -> psycopg.Connection[t.Any]:
        """The session (for ``access``, which reads privileges through it)."""
        return self._connection

    def stage(
        self, number: int, spec: StreamSpec, record: dict[str, t.Any], message: dict[str, t.Any]
    ) -> None:
        """Stream one record (input line ``number``) into the batch."""
        stage = self._active
        if stage is None or stage.spec is not spec:
            stage = self._open_stage(spec)
        try:
            row = stage.rows.row(record, message)
        except ValueLoadError as exc:
            self._rollback()
            raise LoadError(f"input line {number}: {spec.label}: {exc}") from None
        if stage.keyed and stage.may_conflict(row) and stage.direct:
            self._switch_to_staging(stage)
            row = stage.rows.staged(row)
        self._write(number, stage, row)

    def _write(self, number: int, stage: Stage, row: list[t.Any]) -> None:
        """Write one row (of input line ``number``) to the open COPY."""
        try:
            self._write_row(row)
        except psycopg.Error as exc:
            raise self._write_failed(number, stage, exc) from None
        self._note_line(number)

    def stage_compact(self, number: int, spec: StreamSpec, lines: list[bytes]) -> int:
        """Stream the records of compact RECORD lines (input lines ``number``, ``number +
        1``, ...) into the batch, up to the first that needs the general path (``stage``) or
        whose stream cannot take this one (see ``compact``); return how many were staged."""
        stage = self._active
        if stage is None or stage.spec is not spec:
            stage = self._open_stage(spec)
        compact = stage.rows.compact
        if compact is None:
            return 0
        rows = compact.rows(lines)
        if stage.keyed and not stage.note_all(rows):
            made_direct = stage.direct
            for offset, row in enumerate(rows):  # row by row, as ``stage`` does
                if stage.may_conflict(row) and stage.direct:
                    self._switch_to_staging(stage)
                staged = made_direct and not stage.direct
                self._write(number + offset, stage, stage.rows.staged(row) if staged else row)
            return len(rows)
        self._copy_lines.extend(range(number, number + len(rows)))
        write_row, offset = self._write_row, 0
        try:
            for offset, row in enumerate(rows):  # noqa: B007 (the failing row's offset)
                write_row(row)
        except psycopg.Error as exc:
            raise self._write_failed(number + offset, stage, exc) from None
        return len(rows)

    def holds(self, stream: str) -> bool:
        """Whether the batch holds records of ``stream``."""
        return stream in self._stages

    def _write_failed(self, number: int, stage: Stage, error: psycopg.Error) -> Exception:
        """Abandon the batch after a failed COPY write; the error to raise."""
        failure = (
            self._refused(error)  # the server refused an earlier row
            if error.sqlstate
            else LoadError(
                f"input line {number}: {stage.spec.label}: cannot write a value: {error}"
            )
        )
        self._rollback()
        return failure

    def commit(
        self, specs: Iterable[StreamSpec], activations: Iterable[tuple[StreamSpec, int]]
    ) -> None:
        """Finish the batch in one transaction: make the tables of ``specs`` (every stream
        seen) fit them, merge every staging table, retire old versions, commit."""
        with self._guard():
            self._end_copy()
            with self._connection.cursor() as cursor:
                for spec in specs:
                    self._prepare(cursor, spec)
                for stage in self._stages.values():
                    if stage.staging is not None:
                        self._merge(cursor, stage)
                for spec, version in activations:
                    self._activate(cursor, spec, version)
            self._connection.commit()
        self._note_loaded()
        self._end_batch()

    def close(self) -> None:
        """Roll back an unfinished batch and close the session."""
        self._rollback()
        self._connection.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Roll the batch back on any failure, raising an error that names the cause."""
        try:
            yield
        except psycopg.Error as exc:
            error = self._refused(exc)
            self._rollback()
            raise error from None
        except LoadError:
            self._rollback()
            raise

    def _open_stage(self, spec: StreamSpec) -> Stage:
        """End the open COPY; start one for ``spec`` (its first in the batch makes its stage)."""
        with self._guard():
            self._end_copy()
            stage = self._stages.get(spec.stream)
            if stage is None or stage.spec is not spec:
                stage = self._new_stage(spec)
            self._start_copy(stage)
        return stage

    def _new_stage(self, spec: StreamSpec) -> Stage:
        if self._batch_started is None:
            self._batch_started = int(time.time() * 1000)
        with self._connection.cursor() as cursor:
            table = self._prepare(cursor, spec)
            empty = bool(spec.key_properties) and cursor.execute(
                statements.is_empty(table)
            ).fetchone() == (True,)
        rows = RowMaker(spec, table.columns, self._batch_started, self._sync_started_at)
        location = (spec.schema_name, spec.table)
        loaded = self._loaded.get(location)
        shared = any((s.spec.schema_name, s.spec.table) == location for s in self._stages.values())
        span = loaded[1] if loaded and loaded[0] == spec.key_properties and not shared else None
        stage = Stage(spec, table, rows, empty=empty and not shared, loaded=span)
        self._stages[spec.stream] = stage
        if not stage.direct:
            self._create_staging(stage)
        return stage

    def _switch_to_staging(self, stage: Stage) -> None:
        """A key may conflict: what follows goes to a staging table, merged at commit."""
        with self._guard():
            self._end_copy()
            stage.direct = False
            self._create_staging(stage)
            self._start_copy(stage)

    def _create_staging(self, stage: Stage) -> None:
        stage.staging = f"dativo_stage_{self._staging_tables}"
        self._staging_tables += 1
        stage.rows.to_staging()
        with self._connection.cursor() as cursor:
            cursor.execute(statements.create_staging(stage.staging, stage.spec, stage.table))

    def _start_copy(self, stage: Stage) -> None:
        relation, columns, _ = stage.copy_target()
        self._copy_scope = ExitStack()
        cursor = self._copy_scope.enter_context(self._connection.cursor())
        statement = statements.copy_rows(relation, columns)
        self._write_row = self._copy_scope.enter_context(cursor.copy(statement)).write_row
        self._active = stage

    def _end_copy(self) -> None:
        """Finish the open COPY, if any. If that fails, the COPY's stage and lines stay, for
        ``_refused`` to name the input line."""
        if self._copy_scope is not None:
            self._copy_scope.close()
        self._copy_scope, self._write_row, self._active = None, _no_copy, None
        self._copy_lines.clear()

    def _prepare(self, cursor: Cursor, spec: StreamSpec) -> Table:
        """Make the stream's table fit its spec, once per spec."""
        location = (spec.schema_name, spec.table)
        if self._prepared.get(spec.stream) is spec and location in self._tables:
            return self._tables[location]
        existing = self._tables.get(location) or read_table(cursor, *location)
        if existing and self._settings.overwrite and location not in self._replaced:
            cursor.execute(statements.drop_table(existing))
            existing = None
        self._replaced.add(location)
        table = self._tables[location] = prepare_table(cursor, spec, existing)
        self._prepared[spec.stream] = spec
        return table

    def _merge(self, cursor: Cursor, stage: Stage) -> None:
        """Merge a staging table into its table; without DISTINCT ON when no key came twice,
        which falls back to it if keys differing in JSON are equal in SQL ("1" and 1): a row
        then updated twice, or a key inserted twice."""
        staging = stage.staging
        assert staging is not None and self._batch_started is not None
        batch = statements.batch_metadata(self._batch_started, self._sync_started_at)

        def merge(dedupe: bool) -> sql.Composed:
            return statements.merge(
                staging, stage.spec, stage.table, batch, dedupe=dedupe, use_merge=self._use_merge
            )

        if stage.duplicates:
            cursor.execute(merge(dedupe=True))
            return
        try:
            with self._connection.transaction():  # a savepoint
                cursor.execute(merge(dedupe=False))
        except (psycopg.errors.CardinalityViolation, psycopg.errors.UniqueViolation):
            cursor.execute(merge(dedupe=True))

    def _activate(self, cursor: Cursor, spec: StreamSpec, version: int) -> None:
        location = (spec.schema_name, spec.table)
        table = self._tables.get(location) or read_table(cursor, *location)
        if table is not None:
            statement = statements.retire_old_versions(
                table, version, hard_delete=self._settings.hard_delete
            )
            cursor.execute(statement)

    def _rollback(self) -> None:
        """Abandon the batch: end its COPY with an error, roll its transaction back."""
        scope, self._copy_scope, self._active = self._copy_scope, None, None
        self._write_row = _no_copy
        try:
            if scope is not None:
                scope.__exit__(LoadError, LoadError("batch abandoned"), None)
            self._connection.rollback()
        except psycopg.Error:
            pass  # the session died with the batch; the error being raised says why
        self._end_batch()
        self._copy_lines.clear()
        self._tables.clear()  # the batch's table changes were rolled back too
        self._loaded.clear()
        self._prepared.clear()

    def _note_loaded(self) -> None:
        """After a commit: the span of the keys in each table holding only rows this run
        loaded under integer keys (see ``stage``)."""
        stages: dict[tuple[str, str], list[Stage]] = {}
        for stage in self._stages.values():
            stages.setdefault((stage.spec.schema_name, stage.spec.table), []).append(stage)
        for location, found in stages.items():
            span = found[0].span() if len(found) == 1 else None
            if span is None:
                self._loaded.pop(location, None)
            else:
                self._loaded[location] = (found[0].spec.key_properties, span)

    def _end_batch(self) -> None:
        self._stages.clear()
        self._batch_started = None
        self._staging_tables = 0

    def _refused(self, error: psycopg.Error) -> Exception:
        """The error to raise for a failed statement, naming input line and field when the
        failure was in a COPY."""
        if isinstance(error, psycopg.OperationalError):
            return TransientError(f"lost the Postgres session while loading: {_first_line(error)}")
        where = ""
        context = _COPY_CONTEXT.search(error.diag.context or "")
        if context and self._active and self._active.copy_target()[2] == context[1]:
            stage, line = self._active, int(context[2])
            if line <= len(self._copy_lines):
                where = f"input line {self._copy_lines[line - 1]}: "
            where += f"{stage.spec.label}: "
            if context[3]:
                where += f"field {stage.column_name(context[3])!r}: "
            if isinstance(error, psycopg.errors.UniqueViolation) and not stage.spec.key_properties:
                where += "the stream has no key properties, so its records are appended, but "
        detail = f" ({error.diag.message_detail})" if error.diag.message_detail else ""
        return LoadError(f"{where}Postgres refused the batch: {_first_line(error)}{detail}")


def _no_copy(_row: t.Sequence[t.Any]) -> None:
    raise AssertionError("no COPY is open")


def _connect_error(error: psycopg.OperationalError, params: dict[str, str]) -> Exception:
    where = f"Postgres at {params.get('host', 'localhost')}:{params.get('port', '5432')}"
    rules: list[FailureRule] = [
        (_AUTH_FAILURES, AuthenticationError, f"{where} refused the credentials"),
        (("does not exist",), ConfigurationError, where),
    ]
    return classify_failure(
        _first_line(error), rules, (ConnectionError, f"cannot connect to {where}")
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
