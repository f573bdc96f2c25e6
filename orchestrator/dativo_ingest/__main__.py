from dativo_ingest.cli.main import entry

entry()
