"""Run the tap as ``python -m tap_csv``."""

from tap_csv.tap import TapCSV

TapCSV.cli()
