"""The ``tap-csv`` command: the Singer SDK command line, connector errors as exit codes."""

from __future__ import annotations

from dativo_connector_kit import exit_on_error
from tap_csv.tap import TapCSV


@exit_on_error("tap-csv")
def main() -> None:
    """Run the tap; a ConnectorError exits with its code (2 config, 1 data) and one line."""
    TapCSV.cli()
