"""Inline stream maps: `dativo run` with one renamed, one dropped and one hashed field against
the plain relay, on the relay benchmark's stream and programs (bench/relay_bench.py, profile
``singer``: a message-by-message tap into a decoding sink). With ``--mapper PATH`` (the
``meltano-map-transformer`` executable), a third arm pipes the same maps through that mapper
by hand: ``tap | meltano-map-transformer | sink``. With ``--baseline-dativo PATH``, another
arm runs the maps job with that ``dativo`` (an older build, to compare in the same run).
Arms alternate round by round; medians.

Usage: .venv/bin/python bench/stream_maps_bench.py [--records 2000000] [--rounds 3]
       [--mapper /path/to/meltano-map-transformer] [--mapper-rounds 1]
       [--baseline-dativo /path/to/older/dativo]
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

from relay_bench import (
    SINK,
    TAP,
    Arm,
    DativoArm,
    Measurement,
    Section,
    Workspace,
    log,
    program_env,
    run_section,
    timed,
)

MAPS = {"events": {"event_time": "ts", "ts": None, "payload": None, "user": "md5(user)"}}


class MappedDativoArm(DativoArm):
    """`dativo run` of the same job with ``stream_maps``."""

    name = "dativo-maps"

    def prepare(self, ws: Workspace) -> None:
        super().prepare(ws)
        with self.job(ws).open("a", encoding="utf-8") as job:
            job.write(f"stream_maps: {json.dumps(MAPS)}\n")

    @staticmethod
    def job(ws: Workspace) -> Path:
        return ws.root / "job-maps.yaml"


class BaselineMappedArm(MappedDativoArm):
    """The maps job run by another ``dativo`` executable."""

    name = "maps-baseline"


class MapperPipeArm(Arm):
    """`tap | meltano-map-transformer | sink` by hand, the mapper given the same maps."""

    name = "mapper-pipe"

    def __init__(self, executable: str, rounds: int) -> None:
        self.executable = executable
        self.rounds = rounds

    def prepare(self, ws: Workspace) -> None:
        (ws.root / "mapper.json").write_text(json.dumps({"stream_maps": MAPS}))

    def run(self, ws: Workspace) -> Measurement:
        quote = shlex.quote
        tap = f"{quote(str(TAP))} --config {quote(str(ws.tap_config))}"
        mapper = f"{quote(self.executable)} --config {quote(str(ws.root / 'mapper.json'))}"
        sink = f"{quote(str(SINK))} --config {quote(str(ws.sink_config))}"
        script = f"set -o pipefail; {tap} | {mapper} | {sink} > /dev/null"
        return timed(["bash", "-c", script], ws, self.name, program_env())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mapper", help="the meltano-map-transformer executable")
    parser.add_argument("--mapper-rounds", type=int, default=1)
    parser.add_argument("--dativo", default=str(Path(sys.executable).with_name("dativo")))
    parser.add_argument("--baseline-dativo", help="another dativo to run the maps job with")
    args = parser.parse_args()
    plain = DativoArm(args.dativo)
    arms: list[Arm] = [plain, MappedDativoArm(args.dativo)]
    if args.baseline_dativo:
        arms.append(BaselineMappedArm(args.baseline_dativo))
    if args.mapper:
        mapper = str(Path(args.mapper).absolute()) if "/" in args.mapper else args.mapper
        arms.append(MapperPipeArm(mapper, args.mapper_rounds))  # the arms run elsewhere
    section = Section("maps", args.records, args.rounds)
    result = run_section(section, arms, warmup=0)
    base = result.median("dativo")
    base_cpu = statistics.median(result.arms["dativo"].cpu_s)
    for arm in arms:
        runs = result.arms[arm.name]
        wall, cpu = statistics.median(runs.seconds), statistics.median(runs.cpu_s)
        ratio = wall / base if base else float("nan")
        cpu_ratio = cpu / base_cpu if base_cpu else float("nan")
        print(
            f"{arm.name:13} wall median {wall:7.2f}s  cpu median {cpu:7.2f}s"
            f"  x{ratio:.2f} wall, x{cpu_ratio:.2f} cpu of dativo  ({len(runs.seconds)} rounds)"
        )
    log(f"maps: {json.dumps(MAPS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
