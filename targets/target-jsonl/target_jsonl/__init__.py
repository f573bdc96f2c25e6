"""Lean Singer target: one JSON-lines file per stream, STATE echoed once it is durable."""

__version__ = "0.1.0"
