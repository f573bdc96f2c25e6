"""Error classes map to their documented exit codes through exit_on_error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[1]

PROGRAM = """
import sys
sys.path.insert(0, {kit!r})
import dativo_connector_kit as kit

@kit.exit_on_error("tap-demo")
def main():
    raise getattr(kit, {error!r})("the reason")

main()
"""


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("ConnectorError", 1),
        ("ConfigurationError", 2),
        ("ConnectionError", 3),
        ("AuthenticationError", 4),
        ("TransientError", 5),
    ],
)
def test_each_error_exits_with_its_code(error: str, code: int) -> None:
    source = PROGRAM.format(kit=str(KIT), error=error)
    result = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True)
    assert result.returncode == code
    assert result.stderr.strip() == f"tap-demo: {error}: the reason"


def test_connection_error_is_also_the_builtin_one() -> None:
    sys.path.insert(0, str(KIT))
    try:
        import dativo_connector_kit as kit

        assert issubclass(kit.ConnectionError, ConnectionError)
        assert kit.ConnectionError.retryable and not kit.AuthenticationError.retryable
    finally:
        sys.path.remove(str(KIT))
