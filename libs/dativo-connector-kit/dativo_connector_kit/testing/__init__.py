"""The standard test suite of lean targets (in the spirit of ``singer_sdk.testing``):
``TargetRunner`` runs a target as a real process, ``TargetSuite`` holds the standard tests
over the canned streams in ``streams/``. Needs pytest (a test dependency, not the kit's)."""

import pytest

pytest.register_assert_rewrite("dativo_connector_kit.testing.suite")

from dativo_connector_kit.testing.runner import FolderTargetRunner, TargetRunner  # noqa: E402
from dativo_connector_kit.testing.suite import CannedStream, TargetSuite  # noqa: E402

__all__ = ["CannedStream", "FolderTargetRunner", "TargetRunner", "TargetSuite"]
