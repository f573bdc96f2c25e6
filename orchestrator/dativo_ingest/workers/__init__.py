"""Beyond one machine: jobs, schedules and workers on Temporal (extra ``dativo-ingest[temporal]``).

``submission`` (what travels through Temporal) imports nothing from temporalio; the other
modules need the extra and are imported only by the commands that use them.
"""
