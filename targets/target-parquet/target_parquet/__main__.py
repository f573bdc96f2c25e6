"""Run the target as ``python -m target_parquet``."""

from target_parquet.command import command

command()
