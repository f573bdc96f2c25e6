"""Run shell commands in alternating order; print each one's median process-tree CPU and wall.

    .venv/bin/python bench/alternate.py --rounds 11 "CMD1" "CMD2" ...

Every round runs every command, in the given order on even rounds and reversed on odd ones.
CPU is user + system time from ``wait4`` of the shell, which reaps the command and every
process it waited for (``exec`` in the command keeps the shell out of the figure). A command
that exits non-zero stops the run with its stderr. The load average is printed at the start
and the end, to judge how much other work shared the cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def measure(command: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``command`` through ``/bin/sh``."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = stderr.decode(errors="replace")[-2000:]
        sys.exit(f"exit {proc.returncode}: {command}\n{tail}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("commands", nargs="+", metavar="COMMAND")
    args = parser.parse_args()
    print("load average at the start:", os.getloadavg())
    walls: dict[str, list[float]] = {c: [] for c in args.commands}
    cpus: dict[str, list[float]] = {c: [] for c in args.commands}
    for round_no in range(args.rounds):
        order = args.commands if round_no % 2 == 0 else args.commands[::-1]
        for command in order:
            wall, cpu = measure(command)
            walls[command].append(wall)
            cpus[command].append(cpu)
    print("load average at the end:  ", os.getloadavg())
    for command in args.commands:
        cpu_ms = statistics.median(cpus[command]) * 1000
        wall_ms = statistics.median(walls[command]) * 1000
        print(f"cpu {cpu_ms:7.1f} ms  wall {wall_ms:7.1f} ms  {command}")


if __name__ == "__main__":
    main()
