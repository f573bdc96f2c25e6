"""One dlt pipeline: a Postgres table -> Postgres, ``sql_database`` with the pyarrow backend and
the csv loader. Run by bench/e2e_postgres_bench.py with dlt's own virtual environment.

Usage: python dlt_sql_copy.py URL SCHEMA TABLE DATASET PIPELINES_DIR
"""

from __future__ import annotations

import sys

import dlt
from dlt.sources.sql_database import sql_table


def main(url: str, schema: str, table: str, dataset: str, pipelines_dir: str) -> None:
    source_url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
    source = sql_table(credentials=source_url, schema=schema, table=table, backend="pyarrow")
    pipeline = dlt.pipeline(
        pipeline_name="bench_e2e",
        destination=dlt.destinations.postgres(credentials=url),
        dataset_name=dataset,
        pipelines_dir=pipelines_dir,
    )
    info = pipeline.run(source, write_disposition="replace", loader_file_format="csv")
    info.raise_on_failed_jobs()


if __name__ == "__main__":
    main(*sys.argv[1:6])
