"""Lean Singer target: Parquet files per stream (local or S3), STATE echoed once durable."""

__version__ = "0.1.0"
