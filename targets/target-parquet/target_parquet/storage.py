"""Where files go, through pyarrow's filesystems: a local folder or S3. A file becomes visible
only whole, never partly written.

- Local: a file is written as ``<destination>/.dativo-tmp/<host>-<pid>-<random>.parquet.tmp``;
  ``commit`` fsyncs it, renames it into place (atomic within one filesystem) and fsyncs the
  folders that changed. Temporary files of a killed run (this host, process gone) are removed
  when the next run starts.
- S3 (and S3-compatible stores): a file is built in memory and uploaded, once complete, to its
  final key; S3 shows an object only once its upload is complete (one PUT, or the completion of
  a multipart upload), so a failed or killed run leaves no partial object. The store is
  reached with the ``s3_*`` / ``aws_*`` settings.
"""

from __future__ import annotations

import contextlib
import os
import socket
import typing as t
from pathlib import Path

import pyarrow as pa
from pyarrow import fs as pafs

from dativo_connector_kit import (
    AuthenticationError,
    ConfigurationError,
    ConnectionError,
    ConnectorError,
)
from dativo_connector_kit.errors import FailureRule, classify_failure

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from target_parquet.settings import Settings

TMP_FOLDER = ".dativo-tmp"
TMP_SUFFIX = ".parquet.tmp"
_HOST = socket.gethostname()
_AUTH_ERRORS = ("ACCESS_DENIED", "INVALID_ACCESS_KEY_ID", "SIGNATURE_DOES_NOT_MATCH", "403")
_NETWORK_ERRORS = ("NETWORK_CONNECTION", "Couldn't connect", "curlCode", "Timeout")
_FAILURES: list[FailureRule] = [
    (_AUTH_ERRORS, AuthenticationError, "access refused"),
    (_NETWORK_ERRORS, ConnectionError, "cannot reach the destination"),
    (("NO_SUCH_BUCKET",), ConfigurationError, "S3 bucket not found"),
]


class Store(t.Protocol):
    """A destination: files are opened by relative path and published together."""

    def open(self, relative: str) -> pa.NativeFile:
        """A stream for a new file at ``relative``."""
        ...

    def close(self, stream: pa.NativeFile) -> None:
        """End a complete file (not called for a file left incomplete by an error)."""
        ...

    def commit(self) -> None:
        """Make every file closed since the last commit durable and visible."""
        ...

    def discard(self) -> None:
        """Drop the files not yet committed (on failure)."""
        ...


class LocalStore:
    """A local folder; files are written beside it and renamed into place at commit."""

    def __init__(self, root: Path) -> None:
        """Create the folder (and its temporary folder); remove orphaned temporary files."""
        self._fs = pafs.LocalFileSystem()
        self._root = root
        self._folders: set[Path] = set()
        self._pending: list[tuple[Path, Path]] = []
        for folder in self._make_folders(root):
            _fsync(folder)
        self._tmp = root / TMP_FOLDER
        self._tmp.mkdir(exist_ok=True)
        _remove_orphans(self._tmp)

    def open(self, relative: str) -> pa.NativeFile:
        """A stream writing a temporary file that ``commit`` moves to ``relative``."""
        tmp = self._tmp / f"{_HOST}-{os.getpid()}-{os.urandom(6).hex()}{TMP_SUFFIX}"
        stream = self._fs.open_output_stream(str(tmp))
        self._pending.append((tmp, self._root / relative))
        return stream

    def close(self, stream: pa.NativeFile) -> None:
        """Close the temporary file."""
        stream.close()

    def commit(self) -> None:
        """fsync each file, rename it into place, then fsync every folder that changed."""
        changed: set[Path] = set()
        for tmp, final in self._pending:
            _fsync(tmp)
            changed |= self._make_folders(final.parent)
            tmp.replace(final)
        for folder in changed:
            _fsync(folder)
        self._pending.clear()

    def discard(self) -> None:
        """Delete the temporary files not yet committed."""
        for tmp, _final in self._pending:
            tmp.unlink(missing_ok=True)
        self._pending.clear()

    def _make_folders(self, folder: Path) -> set[Path]:
        """Create ``folder`` and missing parents; return the folders whose entries change."""
        if folder in self._folders:
            return {folder}
        missing = []
        probe = folder
        while probe not in self._folders and not probe.is_dir():
            missing.append(probe)
            probe = probe.parent
        for new in reversed(missing):
            new.mkdir(exist_ok=True)
        self._folders.add(folder)
        return {folder} | {new.parent for new in missing}


class S3Store:
    """An S3 bucket and prefix; a file is uploaded once complete, and appears then."""

    def __init__(self, filesystem: pafs.FileSystem, root: str) -> None:
        """Check that the bucket can be reached, so that bad settings fail before any input."""
        self._fs = filesystem
        self._root = root.rstrip("/")
        self._keys: dict[int, str] = {}
        bucket = self._root.split("/", 1)[0]
        if self._fs.get_file_info(bucket).type == pafs.FileType.NotFound:
            raise ConfigurationError(f"S3 bucket {bucket!r} does not exist")

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        """Connect with the ``s3_*`` / ``aws_*`` settings (the AWS SDK's defaults otherwise)."""
        options: dict[str, t.Any] = {"connect_timeout": 10, "request_timeout": 60}
        s3 = settings.s3
        if "aws_access_key_id" in s3:
            options["access_key"] = s3["aws_access_key_id"]
            options["secret_key"] = s3.get("aws_secret_access_key", "")
        if "aws_region" in s3:
            options["region"] = s3["aws_region"]
        if "s3_endpoint_url" in s3:
            scheme, _, host = s3["s3_endpoint_url"].rpartition("://")
            options["endpoint_override"] = host.rstrip("/")
            options["scheme"] = scheme or "https"
        return cls(pafs.S3FileSystem(**options), settings.destination_path.removeprefix("s3://"))

    def open(self, relative: str) -> pa.NativeFile:
        """An in-memory stream, uploaded to ``relative`` by ``close``."""
        stream = pa.BufferOutputStream()
        self._keys[id(stream)] = f"{self._root}/{relative}"
        return stream

    def close(self, stream: pa.NativeFile) -> None:
        """Upload the complete file to its key."""
        key = self._keys.pop(id(stream))
        with self._fs.open_output_stream(key) as upload:
            upload.write(stream.getvalue())

    def commit(self) -> None:
        """Nothing left to do: an uploaded file is complete and durable."""

    def discard(self) -> None:
        """Forget the files not uploaded: they never existed outside this process."""
        self._keys.clear()


def _local(settings: Settings) -> Store:
    return LocalStore(Path(settings.destination_path.removeprefix("file://")))


STORES: dict[str, Callable[[Settings], Store]] = {"file": _local, "s3": S3Store.from_settings}


def open_store(settings: Settings) -> Store:
    """The store for ``destination_path``'s scheme (none: a local folder)."""
    scheme, found, _rest = settings.destination_path.partition("://")
    return STORES[scheme if found else "file"](settings)


def as_connector_error(error: OSError) -> ConnectorError:
    """Classify an I/O failure by what an orchestrator should do about it."""
    return classify_failure(str(error), _FAILURES, (ConnectorError, "I/O error"))


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_orphans(tmp: Path) -> None:
    """Delete temporary files that processes of this host, now gone, left behind."""
    for path in tmp.glob(f"*{TMP_SUFFIX}"):
        host, _, rest = path.name.removesuffix(TMP_SUFFIX).rpartition("-")[0].rpartition("-")
        if host == _HOST and rest.isdigit() and not _alive(int(rest)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        pass
    return True
