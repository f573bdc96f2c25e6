"""The lean Singer target SDK: a target keeps only its destination logic.

``Target`` (the message loop and its hooks), ``BatchPolicy`` and the settings that configure
it (``BATCH_SETTINGS``), ``InputError``/``SchemaError``, and ``writable_folder`` for a
``--test`` of a local destination. The command line is in ``dativo_connector_kit.target_cli``.
"""

from dativo_connector_kit.errors import InputError, SchemaError
from dativo_connector_kit.target.access import writable_folder
from dativo_connector_kit.target.loop import Message, Schema, Stream, Target
from dativo_connector_kit.target.policy import SETTINGS as BATCH_SETTINGS
from dativo_connector_kit.target.policy import BatchPolicy

__all__ = [
    "BATCH_SETTINGS",
    "BatchPolicy",
    "InputError",
    "Message",
    "Schema",
    "SchemaError",
    "Stream",
    "Target",
    "writable_folder",
]
