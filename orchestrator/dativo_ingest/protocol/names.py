"""The protocols dativo speaks, and the capabilities a connector declares."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

ProtocolName = Literal["singer", "airbyte"]
DEFAULT_PROTOCOL: ProtocolName = "singer"


class Capability(StrEnum):
    """What a connector declares it supports (the Meltano Hub capability names)."""

    CATALOG = "catalog"
    PROPERTIES = "properties"
    DISCOVER = "discover"
    STATE = "state"
    TEST = "test"
    ABOUT = "about"
    # declared by Meltano Hub entries; dativo records them, the run does not depend on them
    STREAM_MAPS = "stream-maps"
    SCHEMA_FLATTENING = "schema-flattening"
    BATCH = "batch"
    ACTIVATE_VERSION = "activate-version"
    STRUCTURED_LOGGING = "structured-logging"
    VALIDATE_RECORDS = "validate-records"
    HARD_DELETE = "hard-delete"
    SOFT_DELETE = "soft-delete"
    LOG_BASED = "log-based"
    TARGET_SCHEMA = "target-schema"
    DATATYPE_FAILSAFE = "datatype-failsafe"
