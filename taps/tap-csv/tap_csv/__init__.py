"""Singer tap for CSV files: one stream per configured file, folder or glob."""

__version__ = "0.2.0"
