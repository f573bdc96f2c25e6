"""Singer tap for CSV files: one full-table stream per configured file."""
