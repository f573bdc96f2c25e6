"""The ``tap-postgres`` command: the Singer SDK's command line, with the kit's exit codes."""

from __future__ import annotations

from dativo_connector_kit import exit_on_error
from tap_postgres.tap import TapPostgres


@exit_on_error("tap-postgres")
def main() -> None:
    """Run the tap; ConfigurationError exits 2, ConnectionError 3, AuthenticationError 4,
    TransientError 5 (click's standalone mode lets them through)."""
    TapPostgres.cli()
