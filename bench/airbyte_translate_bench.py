"""Translation throughput: an Airbyte source stream through dativo's translating relay into a
Singer sink, against the plain Singer relay on the same records.

Both arms run the real relay classes between real processes: ``cat FILE`` writes the stream,
the relay reads it, ``cat > /dev/null`` drains what it writes. The Airbyte file holds the same
records as the Singer file of bench/programs/gen_stream.py, as Airbyte RECORD messages with a
per-stream STATE every 10,000 records. Rounds alternate; medians are reported.

Usage: .venv/bin/python bench/airbyte_translate_bench.py [--records 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson

from dativo_ingest.pipeline.relay import Relay, TranslatingRelay
from dativo_ingest.protocol.airbyte import AirbyteState
from dativo_ingest.protocol.singer import SingerScanner
from dativo_ingest.protocol.translate import AirbyteEvents, AirbyteToSinger
from dativo_ingest.runtime.process import ConnectorProcess

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
TARGET_RATE = 300_000


def singer_stream(records: int) -> Path:
    path = DATA / f"events-v1-{records}.singer"
    if not path.exists():
        generator = BENCH / "programs" / "gen_stream.py"
        subprocess.run(
            [sys.executable, generator, "--records", str(records), "--out", path], check=True
        )
    return path


def airbyte_stream(records: int) -> Path:
    """The Singer stream's records and states as Airbyte messages (cached)."""
    path = DATA / f"events-airbyte-v1-{records}.jsonl"
    if path.exists():
        return path
    with singer_stream(records).open("rb") as src, path.open("wb") as out:
        for line in src:
            message = orjson.loads(line)
            if message["type"] == "RECORD":
                out.write(
                    orjson.dumps(
                        {
                            "type": "RECORD",
                            "record": {
                                "stream": message["stream"],
                                "data": message["record"],
                                "emitted_at": 1700000000000,
                            },
                        }
                    )
                    + b"\n"
                )
            elif message["type"] == "STATE":
                out.write(
                    orjson.dumps(
                        {
                            "type": "STATE",
                            "state": {
                                "type": "STREAM",
                                "stream": {
                                    "stream_descriptor": {"name": "events"},
                                    "stream_state": message["value"]["bookmarks"]["events"],
                                },
                            },
                        }
                    )
                    + b"\n"
                )
    return path


def configured_catalog() -> dict:
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    return {
        "streams": [
            {
                "stream": {"name": "events", "json_schema": schema},
                "primary_key": [["id"]],
                "sync_mode": "incremental",
            }
        ]
    }


def relay_once(path: Path, translate: bool) -> tuple[float, float, int]:
    """Wall seconds, the relay's CPU seconds and records relayed for one pass of ``path``."""
    source = ConnectorProcess("cat", ["cat", str(path)], subprocess.DEVNULL)
    sink = ConnectorProcess("sink", ["sh", "-c", "cat > /dev/null"])
    started, cpu_started = time.perf_counter(), time.process_time()
    if translate:
        translator = AirbyteToSinger(configured_catalog(), AirbyteState(), AirbyteEvents("bench"))
        relay: Relay = TranslatingRelay(source.stdout.fileno(), sink.stdin.fileno(), translator)
        counter = translator
    else:
        counter = SingerScanner()
        relay = Relay(source.stdout.fileno(), sink.stdin.fileno(), counter)
    relay.run()
    relay.finish(source.wait() == 0)
    sink.close_stdin()
    sink.wait()
    cpu = time.process_time() - cpu_started
    return time.perf_counter() - started, cpu, counter.records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    arms = {
        "airbyte->singer (translate)": (airbyte_stream(args.records), True),
        "singer->singer (passthrough)": (singer_stream(args.records), False),
    }
    times: dict[str, list[float]] = {name: [] for name in arms}
    cpu: dict[str, list[float]] = {name: [] for name in arms}
    for round_no in range(args.rounds):
        order = list(arms) if round_no % 2 == 0 else list(arms)[::-1]
        for name in order:
            path, translate = arms[name]
            seconds, cpu_seconds, records = relay_once(path, translate)
            if records != args.records:
                print(f"{name}: relayed {records} records, expected {args.records}")
                return 1
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
    print(f"{args.records:,} records, {args.rounds} alternating rounds, medians")
    print(
        f"{'arm':<30}{'median s':>10}{'messages/s':>14}{'relay CPU s':>13}"
        f"{'msg/CPU s':>12}   individual s"
    )
    for name, values in times.items():
        median, cpu_median = statistics.median(values), statistics.median(cpu[name])
        print(
            f"{name:<30}{median:>10.3f}{args.records / median:>14,.0f}{cpu_median:>13.3f}"
            f"{args.records / cpu_median:>12,.0f}   " + " ".join(f"{v:.3f}" for v in values)
        )
    translate_rate = args.records / statistics.median(times["airbyte->singer (translate)"])
    verdict = "PASS" if translate_rate >= TARGET_RATE else "FAIL"
    print(f"{verdict}  translation {translate_rate:,.0f} messages/s (target {TARGET_RATE:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
