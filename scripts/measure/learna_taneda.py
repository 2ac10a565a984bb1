"""Time LEARNA-mode designs on Rfam-Taneda targets, several seeds each: a thin use of `rnadesign benchmark`.

Runs `rnadesign benchmark rfam-taneda --method learna --only TARGETS --runs SEEDS ...` (one process per
attempt, one thread each, times from process start), then prints one line per attempt and, per
target, the median time to solve over its runs (an unsolved attempt counts as the time limit, and
the median is then marked '>'). Each line also says when the attempt first reached its final
distance (`best_at_s`): for an unsolved attempt, how long it stalled there.

    python scripts/measure/learna_taneda.py --targets 1 2 3 --runs 6 --time-limit 120 --jobs 2
    python scripts/measure/learna_taneda.py --set ppo.n_envs=16 --set network.num_lstm_layers=0 --out runs/x

`--set SECTION.FIELD=VALUE` overrides a value of `--config` (written to OUT/config.json and passed on).
Re-running with the same --out resumes: recorded attempts are not run again.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rnadesign.benchmark.spec import read_results
from rnadesign.config import AgentConfig, load_agent_config
from rnadesign.files import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", nargs="+", default=["1", "2", "3"], help="Rfam-Taneda target ids")
    parser.add_argument("--runs", type=int, default=3, help="attempts (seeds) per target (default: 3)")
    parser.add_argument("--seed", type=int, default=0, help="base seed of the benchmark (default: 0)")
    parser.add_argument("--time-limit", type=float, default=120)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", help="results folder (default: a new temporary one)")
    parser.add_argument("--config", default="learna-fast", help="preset name or JSON file (default: learna-fast)")
    parser.add_argument("--restart-timeout", type=float, help="restart the agent after this long without a solution")
    parser.add_argument(
        "--stall-restart",
        type=float,
        help="restart an agent whose designs stalled worse than the best found for this long "
        "(default: as rnadesign design; 0 turns it off)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override one config value (JSON literal), e.g. ppo.n_envs=16",
    )
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="learna-taneda-"))
    config = args.config
    if args.set:
        data = load_agent_config(args.config).to_dict()
        for item in args.set:
            key, value = item.split("=", 1)
            section, field = key.split(".")
            data[section][field] = json.loads(value)
        AgentConfig.from_dict(data)  # fail here on a bad override
        config = str(atomic_write_json(out / "config.json", data))
    command = [
        sys.executable, "-m", "rnadesign", "benchmark", "rfam-taneda", "--method", "learna",
        "--only", ",".join(args.targets), "--runs", str(args.runs), "--seed", str(args.seed),
        "--time-limit", f"{args.time_limit:g}", "--jobs", str(args.jobs), "--out", str(out), "--config", config,
    ]  # fmt: skip
    if args.restart_timeout is not None:
        command += ["--restart-timeout", f"{args.restart_timeout:g}"]
    if args.stall_restart is not None:
        command += ["--stall-restart", f"{args.stall_restart:g}"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    records = [
        r
        for r in read_results(out)
        if r["method"] == "learna" and r["time_limit"] == args.time_limit and r["target_id"] in args.targets
    ]
    for r in sorted(records, key=lambda r: (int(r["target_id"]), r["run"])):
        keys = ("target_id", "run", "seed", "solved", "time_s", "distance", "episodes", "best_at_s", "restarts")
        print(json.dumps({k: r.get(k) for k in keys}))
    print(
        f"results in {out}; config={config} overrides={args.set} time_limit={args.time_limit:g} "
        f"restart_timeout={args.restart_timeout} stall_restart={args.stall_restart}"
    )
    for target in args.targets:
        rs = [r for r in records if r["target_id"] == target]
        times = [r["time_s"] if r["solved"] else args.time_limit for r in rs]
        median = statistics.median(times)
        mark = ">" if median >= args.time_limit else ""
        print(
            f"taneda {target}: solved {sum(r['solved'] for r in rs)}/{len(rs)}  median time {mark}{median:.1f}s  "
            f"times {[r['time_s'] if r['solved'] else None for r in rs]}"
        )


if __name__ == "__main__":
    main()
