"""Run the tap as ``python -m tap_rest``."""

from tap_rest.cli import main

main()
