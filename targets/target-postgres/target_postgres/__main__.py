"""Run the target as ``python -m target_postgres``."""

from target_postgres.command import command

command()
