"""Run the target as ``python -m target_iceberg``."""

from target_iceberg.cli import main

raise SystemExit(main())
