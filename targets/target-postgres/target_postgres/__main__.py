"""Run the target as ``python -m target_postgres``."""

from target_postgres.cli import main

raise SystemExit(main())
