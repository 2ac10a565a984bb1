"""Time LEARNA-mode designs on Rfam-Taneda targets: the issue's "targets 1-3 within 120 s" check.

Each (target, seed) runs in its own process on one thread, as a user's `rnadesign design` would.

    python scripts/learna_taneda.py --targets 1 2 3 --seeds 0 1 2 --time-limit 120 --jobs 2
    python scripts/learna_taneda.py --set ppo.n_envs=16 --set network.num_lstm_layers=0

Prints one line per attempt and, per target, the median time to solve over seeds
(an unsolved attempt counts as the time limit, and the median is then marked '>'). Each line also
says when the attempt first reached its final distance (``best_at_s``): for an unsolved attempt,
how long it stalled there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "rfam_taneda"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "rfam_taneda"


def _attempt(args: tuple[str, str, int, float, dict]) -> dict:
    import torch

    torch.set_num_threads(1)
    from rnadesign.config import AgentConfig, load_agent_config
    from rnadesign.design import DesignSettings, design

    target_id, target, seed, time_limit, overrides = args
    restart_timeout = overrides.pop("restart_timeout", None)
    stall_restart = overrides.pop("stall_restart")  # None: the default of rnadesign design
    agent = load_agent_config(overrides.pop("config", "learna"))
    data = agent.to_dict()
    for key, value in overrides.items():
        section, field = key.split(".")
        data[section][field] = value
    agent = AgentConfig.from_dict(data, name=agent.name)
    settings = DesignSettings(
        mode="learna",
        time_limit=time_limit,
        seed=seed,
        restart_timeout=restart_timeout,
        stall_restart=DesignSettings.stall_restart if stall_restart is None else stall_restart,
    )
    improvements: list[tuple[float, int]] = []  # (seconds, distance) whenever the best design improved
    result = design(target, settings, agent, name=target_id, on_best=lambda _, d, t: improvements.append((t, d)))
    return {
        "target": target_id,
        "seed": seed,
        "solved": result.solved,
        "time_s": round(result.time_s, 2),
        "distance": result.distance,
        "episodes": result.episodes,
        # when the final distance was first reached: an unsolved attempt stalled there from then on
        "best_at_s": round(improvements[-1][0], 1) if improvements else None,
        "restarts": result.restarts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", nargs="+", default=["1", "2", "3"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--time-limit", type=float, default=120)
    parser.add_argument("--jobs", type=int, default=2)
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
    overrides: dict = {
        "config": args.config,
        "restart_timeout": args.restart_timeout,
        "stall_restart": args.stall_restart,
    }
    for item in args.set:
        key, value = item.split("=", 1)
        overrides[key] = json.loads(value)
    folder = DATA if DATA.exists() else SHARED
    jobs = [
        (t, (folder / f"{t}.rna").read_text().strip(), s, args.time_limit, dict(overrides))
        for t in args.targets
        for s in args.seeds
    ]
    results: dict[str, list[dict]] = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for r in pool.map(_attempt, jobs):
            print(json.dumps(r), flush=True)
            results.setdefault(r["target"], []).append(r)
    print(
        f"config={args.config} overrides={args.set} time_limit={args.time_limit} "
        f"restart_timeout={args.restart_timeout} stall_restart={args.stall_restart}"
    )
    for target, rs in results.items():
        times = [r["time_s"] if r["solved"] else args.time_limit for r in rs]
        median = statistics.median(times)
        mark = ">" if median >= args.time_limit else ""
        print(
            f"taneda {target}: solved {sum(r['solved'] for r in rs)}/{len(rs)}  median time {mark}{median:.1f}s  "
            f"times {[r['time_s'] if r['solved'] else None for r in rs]}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
