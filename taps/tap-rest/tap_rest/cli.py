"""The ``tap-rest`` command: singer-sdk's tap command line, with the kit's exit codes."""

from __future__ import annotations

from singer_sdk.exceptions import InvalidStreamSortException

from dativo_connector_kit import ConfigurationError, exit_on_error
from tap_rest.tap import TapRest


@exit_on_error("tap-rest")
def main() -> None:
    """Run the tap; a connector error exits with its code and one stderr line."""
    try:
        TapRest.cli()
    except InvalidStreamSortException as exc:
        raise ConfigurationError(
            f"{exc}: the API does not return records in replication_key order; "
            "set records_sorted to false"
        ) from exc
