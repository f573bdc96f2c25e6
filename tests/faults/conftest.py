"""The fault suite's seed: ``DATIVO_FAULT_SEED`` replays a campaign; otherwise a new one is
drawn. It is printed in the report header and in every failure."""

from __future__ import annotations

import os
import random

import pytest

SEED = int(os.environ.get("DATIVO_FAULT_SEED") or random.SystemRandom().randrange(1 << 32))


def pytest_report_header() -> str:
    return f"fault suite seed: {SEED} (replay with DATIVO_FAULT_SEED={SEED})"


@pytest.fixture(scope="session")
def fault_seed() -> int:
    return SEED
