"""Run the target as ``python -m target_iceberg``."""

from target_iceberg.command import command

command()
