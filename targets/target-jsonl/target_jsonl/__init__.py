"""Lean Singer target: JSON-lines files per stream, committed atomically, durable STATE."""

__version__ = "0.2.0"
