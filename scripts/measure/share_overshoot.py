"""How far past their budgets the search's time-boxed pieces run, on an idle and on a busy machine.

Two pieces are timed against the budget they were given:
- ``repair``: :func:`rnadesign.search.walk.decoy_repair` from the designer's start of long Eterna100-V2
  puzzles (it screens pools of candidates by energy evaluation between its folds), budget ``--budget``;
- ``parts``: :func:`rnadesign.search.hierarchy.hierarchical_start` on Eterna100-V2 #76 (393 nt), its share
  ``--share`` seconds (0.3 of a 10 s limit by default).

With ``--busy K``, K processes spinning in Python share the machine while they run (a 2-core machine
running two benchmark attempts besides, as in CI). Prints each piece's wall time against its budget:

    python scripts/measure/share_overshoot.py                 # idle
    python scripts/measure/share_overshoot.py --busy 2        # beside two busy processes
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time

import numpy as np

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.config import SearchConfig
from rnadesign.design import DesignRun, DesignSettings
from rnadesign.model.folding import estimate_fold_seconds
from rnadesign.run.clock import Deadline
from rnadesign.search.ensemble import designer_start
from rnadesign.search.hierarchy import hierarchical_start
from rnadesign.search.walk import decoy_repair

REPAIR_PUZZLES = (73, 76, 86, 90, 96)  # 214-400 nt, the designer's start 20-90 sites off


def eterna(number: int):
    """Eterna100-V2 puzzle ``number``, parsed, as the benchmark reads it."""
    (target,) = [t for t in load_dataset("eterna100-v2").targets if t.name == str(number)]
    return target.parse(warn=False)


def spin(stop) -> None:
    while not stop.is_set():
        sum(range(1000))


def time_repairs(budget: float, seeds: list[int]) -> list[float]:
    overshoots = []
    for number in REPAIR_PUZZLES:
        target = eterna(number)
        for seed in seeds:
            rng = np.random.default_rng(seed)
            start = designer_start(target, rng)
            fold_s = estimate_fold_seconds(len(target))
            began = time.perf_counter()
            clock = Deadline(began + budget, fold_s)
            decoy_repair(start, target, rng, max_folds=10**6, deadline=clock)
            overshoots.append(time.perf_counter() - began - budget)
    return overshoots


def time_parts(share: float, seeds: list[int]) -> list[float]:
    target = eterna(76)
    limit = 10.0
    config = SearchConfig(hierarchy_share=share / limit)
    overshoots = []
    for seed in seeds:
        run = DesignRun(target, DesignSettings(mode="search", time_limit=limit, seed=seed), seed=seed)
        start = designer_start(target, run.rng)
        began = time.perf_counter()
        hierarchical_start(run, config, start)
        overshoots.append(time.perf_counter() - began - share)
    return overshoots


def show(name: str, budget: float, overshoots: list[float]) -> None:
    print(
        f"{name:7s} budget {budget:.2f}s  n={len(overshoots):2d}  past it: median {statistics.median(overshoots):+.3f}s"
        f"  worst {max(overshoots):+.3f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busy", type=int, default=0, help="busy processes beside the measurement")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds for each repair")
    parser.add_argument("--share", type=float, default=3.0, help="seconds for the parts' start")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for p in spinners:
        p.start()
    try:
        print(f"busy processes: {args.busy}")
        show("repair", args.budget, time_repairs(args.budget, args.seeds))
        show("parts", args.share, time_parts(args.share, args.seeds))
    finally:
        stop.set()
        for p in spinners:
            p.join()


if __name__ == "__main__":
    main()
