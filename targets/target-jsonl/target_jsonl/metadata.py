"""``add_record_metadata``: the ``_sdc_*`` fields singer-sdk targets add to every record."""

from __future__ import annotations

import time
import typing as t
from datetime import UTC, datetime


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat()


class MetadataStamper:
    """Adds the fields with singer-sdk's meaning (``Sink._add_sdc_metadata_to_record``).

    ``_sdc_extracted_at`` is the message's ``time_extracted``; ``_sdc_received_at`` when the
    target read the record; ``_sdc_batched_at`` when the current batch started;
    ``_sdc_deleted_at`` is kept from the record (null if absent); ``_sdc_sequence`` is the
    receipt time in epoch milliseconds; ``_sdc_table_version`` the message's ``version``;
    ``_sdc_sync_started_at`` the target's start in epoch milliseconds. Times are ISO 8601 in
    UTC, to the millisecond.
    """

    def __init__(self) -> None:
        """Start the run's clock and its first batch."""
        now_ms = round(time.time() * 1000)
        self._sync_started_at = now_ms
        self._batched_at = _iso(now_ms)
        self._last_ms = now_ms
        self._last_iso = self._batched_at

    def new_batch(self) -> None:
        """Mark the start of the next batch (after a commit)."""
        self._batched_at = self._received_at(round(time.time() * 1000))

    def stamp(self, record: dict[str, t.Any], message: dict[str, t.Any]) -> None:
        """Add the metadata fields to ``record``, which came in ``message``."""
        now_ms = round(time.time() * 1000)
        record["_sdc_extracted_at"] = message.get("time_extracted")
        record["_sdc_received_at"] = self._received_at(now_ms)
        record["_sdc_batched_at"] = self._batched_at
        record["_sdc_deleted_at"] = record.get("_sdc_deleted_at")
        record["_sdc_sequence"] = now_ms
        record["_sdc_table_version"] = message.get("version")
        record["_sdc_sync_started_at"] = self._sync_started_at

    def _received_at(self, now_ms: int) -> str:
        """The ISO text of ``now_ms``, formatted once per millisecond."""
        if now_ms != self._last_ms:
            self._last_ms = now_ms
            self._last_iso = _iso(now_ms)
        return self._last_iso
