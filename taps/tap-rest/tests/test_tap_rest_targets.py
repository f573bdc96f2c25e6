"""tap-rest piped by hand into our target-jsonl and into the community target-jsonl."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest


def order(n: int) -> dict:
    return {
        "id": n,
        "total": n + 0.25,
        "placed_at": f"2024-05-{n:02d}T08:00:00Z",
        "lines": [{"sku": "A", "qty": n}],
    }


def orders_api(api, orders: list[dict]) -> dict:
    """Serve ``orders`` (a list the test may extend), newer than ``since``, 3 a page."""

    def newer(seen):
        offset = int(seen.query["offset"])
        since = seen.query.get("since", "")
        rows = [o for o in orders if o["placed_at"] > since]
        return {"data": rows[offset : offset + 3]}

    api.route("/orders", newer)
    return api.config(
        {
            "name": "orders",
            "path": "/orders",
            "records_path": "data",
            "primary_keys": ["id"],
            "replication_key": "placed_at",
            "incremental_param": "since",
            "pagination": {"type": "offset", "page_size": 3, "page_size_param": "limit"},
        }
    )


def pipe(tap: str, target: str, tap_config: Path, target_config: Path, *extra: str):
    """Run ``tap | target`` like a shell does, both as real processes."""
    with subprocess.Popen(
        [tap, "--config", str(tap_config), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as producer:
        consumer = subprocess.run(
            [target, "--config", str(target_config)],
            stdin=producer.stdout,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        producer.stdout.close()
        tap_stderr = producer.stderr.read().decode()
        producer.wait(timeout=60)
    assert producer.returncode == 0, tap_stderr
    assert consumer.returncode == 0, consumer.stderr
    return consumer.stdout


def read_back(folder: Path, stream: str) -> list[dict]:
    rows = []
    for path in sorted(folder.glob(f"{stream}*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines()]
    return rows


@pytest.fixture(params=["ours", "community"])
def target(request, connector_exe, pypi_connector) -> str:
    if request.param == "ours":
        return connector_exe("target-jsonl")
    return pypi_connector("target-jsonl==0.1.4", "target-jsonl")


def test_piped_into_target_jsonl_lands_every_record_and_echoes_the_state(
    api, tap: str, target: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    orders = [order(n) for n in range(1, 8)]
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps(orders_api(api, orders)))
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps({"destination_path": str(out)}))
    state_file = tmp_path / "state.json"
    state_file.write_text(
        json.dumps(
            {
                "bookmarks": {
                    "orders": {
                        "replication_key": "placed_at",
                        "replication_key_value": "2024-05-02T08:00:00Z",
                    }
                }
            }
        )
    )

    echoed = pipe(tap, target, tap_config, target_config, "--state", str(state_file))

    assert read_back(out, "orders") == orders[2:]
    # the first request samples records for the schema; the sync then starts at the bookmark
    assert api.requests_to("/orders")[-1].query["since"] == "2024-05-02T08:00:00Z"
    state = json.loads(echoed.strip().splitlines()[-1])
    state = state.get("value", state)  # a bare state, or a STATE message
    assert state["bookmarks"]["orders"]["replication_key_value"] == "2024-05-07T08:00:00Z"
