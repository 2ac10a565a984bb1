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

from autorl.worker import Task, evaluate_agent, warm_up
from rnadesign.config import load_agent_config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="an autorl run directory (its run.json names the task)")
    parser.add_argument("--config", required=True, help="preset name or JSON file (e.g. from autorl best --export)")
    parser.add_argument("--budget", type=float, required=True, help="seconds per target (learna) or of training (meta)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    description = json.loads((args.run / "run.json").read_text(encoding="utf-8"))["runs"][-1]["task"]
    if description["mode"] != "learna":
        parser.error("only learna runs: a meta baseline is a meta-training, use rnadesign meta-train")
    task = Task.load(
        "learna", description["targets"], seed=description["seed"], refine_share=description["refine_share"]
    )
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


if __name__ == "__main__":
    sys.exit(main())
