"""Singer tap for PostgreSQL: tables and views, full table or incremental, fast."""

__version__ = "0.1.0"
