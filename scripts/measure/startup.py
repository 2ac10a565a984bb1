"""How fast a design starts: wall time to the first result line, and what the imports cost.

Runs ``rnadesign design "((((....))))" --time-limit 5`` as a subprocess several times and prints the
wall time from process start to the first line on stdout (the median and every run), then the top
entries of ``python -X importtime`` for the same command (cumulative microseconds per module), and
the time ``rnadesign --help`` takes.

    python scripts/measure/startup.py            # 5 runs, top 15 imports
    python scripts/measure/startup.py --runs 9 --top 25 --mode meta-learna
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

TARGET = "((((....))))"


def _command(mode: str | None) -> list[str]:
    command = [sys.executable, "-m", "rnadesign.cli.main", "design", TARGET, "--time-limit", "5", "--seed", "1", "-q"]
    return [*command, "--mode", mode] if mode else command


def time_to_first_line(command: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.communicate()
    if not line:
        raise SystemExit(f"no result line from {' '.join(command)} (exit {proc.returncode})")
    return elapsed


def import_times(command: list[str], top: int) -> list[tuple[int, str]]:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    rows = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match and len(match.group(3)) <= 3:  # top-level imports only (nested ones are inside them)
            rows.append((int(match.group(2)), match.group(4)))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--mode", help="design mode (default: rnadesign's default)")
    args = parser.parse_args()
    command = _command(args.mode)
    time_to_first_line(command)  # warm the file cache; not counted
    times = [time_to_first_line(command) for _ in range(args.runs)]
    print(f"command: rnadesign design {TARGET!r} --time-limit 5" + (f" --mode {args.mode}" if args.mode else ""))
    print(f"time to first result line: median {statistics.median(times):.3f} s over {args.runs} runs")
    print("  runs: " + ", ".join(f"{t:.3f}" for t in times))
    helps = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rnadesign.cli.main", "--help"], capture_output=True, check=True)
        helps.append(time.perf_counter() - start)
    print(f"rnadesign --help: median {statistics.median(helps):.3f} s")
    print(f"top-level imports by cumulative time (python -X importtime, top {args.top}):")
    for micros, module in import_times(command, args.top):
        print(f"  {micros / 1e6:7.3f} s  {module}")


if __name__ == "__main__":
    main()
