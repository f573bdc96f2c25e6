"""Run the target as ``python -m target_jsonl``."""

from target_jsonl.cli import command

command()
