"""Lean Singer target for Postgres: COPY into a staging table, merge, commit, echo STATE."""

__version__ = "0.1.0"
