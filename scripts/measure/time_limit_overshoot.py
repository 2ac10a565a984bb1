"""How far past its time limit a learna-mode design runs, for configurations with slow PPO updates.

stable-baselines3 cannot interrupt an update once it starts, so a design's time limit is only as
firm as the loop's refusal to start an update that would end past it. Prints, per configuration,
the wall time of `design()` against the limit (median and worst over seeds):

    python scripts/measure/time_limit_overshoot.py --time-limit 6 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from rnadesign.config import AgentConfig, load_agent_config
from rnadesign.design import DesignSettings, design

# Frequent and slow updates: 16 episodes per update, an LSTM of 64 along a 65-wide window, 10 epochs.
HEAVY = {
    "env": {"state_radius": 32, "reward_exponent": 5},
    "network": {"embedding_size": 4, "conv_radius1": 4, "conv_channels1": 32, "num_lstm_layers": 2,
                "lstm_units": 64, "num_fc_layers": 2, "fc_units": 64},
    "ppo": {"batch_size": 16, "n_envs": 16, "n_epochs": 10, "n_minibatches": 1},
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=6.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--target", type=Path, default=Path(__file__).parents[2] / "data/rfam_taneda/1.rna")
    args = parser.parse_args()
    torch.set_num_threads(1)
    target = args.target.read_text(encoding="utf-8").strip()
    configs = {"heavy": AgentConfig.from_dict(HEAVY, name="heavy"), "learna": load_agent_config("learna")}
    for name, agent in configs.items():
        walls = []
        for seed in args.seeds:
            start = time.perf_counter()
            design(target, DesignSettings(mode="learna", time_limit=args.time_limit, seed=seed), agent)
            walls.append(time.perf_counter() - start)
        print(
            f"{name:8s} limit {args.time_limit:g}s  wall median {statistics.median(walls):.2f}s  "
            f"worst {max(walls):.2f}s  (overshoot worst {max(walls) - args.time_limit:+.2f}s)"
        )


if __name__ == "__main__":
    main()
