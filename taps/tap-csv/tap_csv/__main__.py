"""Run the tap as ``python -m tap_csv``."""

from tap_csv.cli import main

main()
