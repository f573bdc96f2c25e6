"""Lean Singer target: Apache Iceberg tables (pyiceberg), one snapshot per stream per flush."""

__version__ = "0.1.0"
