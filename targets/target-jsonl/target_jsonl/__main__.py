"""Run the target as ``python -m target_jsonl``."""

from target_jsonl.command import command

command()
