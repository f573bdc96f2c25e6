"""Run the target as ``python -m target_parquet``."""

from target_parquet.cli import main

raise SystemExit(main())
