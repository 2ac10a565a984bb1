"""Score an rnadesign preset (or an exported autorl preset) on an autorl run's task, for comparison.

The loss is exactly what the run's workers measure (same targets, seeds, refine share, budget), so
the incumbent's loss at the largest budget and a preset's loss here can be set side by side:

    python scripts/autorl_baseline.py runs/autorl-taneda/run --config learna-fast --budget 45
    python scripts/autorl_baseline.py runs/autorl-taneda/run --config preset.json --budget 45
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from autorl.errors import AutoRLError
from autorl.runfile import RUN_FILE, newest_run
from autorl.worker import Task, evaluate_agent, warm_up
from rnadesign.cli.console import positive_number, run_command
from rnadesign.config import load_agent_config

PROG = "autorl_baseline.py"


def _score(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)
    entry = newest_run(args.run)
    if entry is None:
        raise AutoRLError(f"{args.run / RUN_FILE}: no such file, or no run described in it")
    description = entry.get("task") or {}
    if description.get("mode") != "learna":
        raise AutoRLError("only learna runs: a meta baseline is a meta-training, use rnadesign meta-train")
    task = Task.from_description(description)  # the workers' task: same targets, seeds and refine share
    agent = load_agent_config(args.config)
    warm_up()  # as the workers do: torch's first optimizer is not charged to the first target
    result = evaluate_agent(agent, args.budget, task)
    info = result["info"]
    print(
        json.dumps(
            {
                "config": args.config,
                "budget": args.budget,
                "loss": round(result["loss"], 4),
                "solved": f"{info['solved']}/{info['targets']}",
                "distances": [round(d, 4) for d in info["distances"]],
                "wall_time_s": info["wall_time_s"],
            }
        )
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="an autorl run directory (its run.json names the task)")
    parser.add_argument("--config", required=True, help="preset name or JSON file (e.g. from autorl best --export)")
    parser.add_argument(
        "--budget", type=positive_number, required=True, help="seconds per target (learna) or of training (meta)"
    )
    args = parser.parse_args()
    return run_command(PROG, _score, args)


if __name__ == "__main__":
    sys.exit(main())
