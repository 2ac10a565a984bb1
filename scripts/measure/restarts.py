"""How often the ensemble search restarts on one Eterna100-V2 puzzle, and where each lineage ended: the
measurement behind ``adapt_avoid`` (docs/design.md, session 18). It wraps ``EnsembleSearch._reseed`` to log,
at every restart, the seconds since the run's start, the lineage's best MFE distance and its first bases.

    python scripts/measure/restarts.py --mode hybrid --puzzle 65 --time-limit 30 --seed 1
    python scripts/measure/restarts.py --mode hybrid --puzzle 65 --search-config '{"adapt_avoid": 0}'
"""

from __future__ import annotations

import argparse
import collections
import json
import time

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.config import SearchConfig
from rnadesign.design import DesignSettings, design
from rnadesign.search import ensemble


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "search"])
    parser.add_argument("--puzzle", default="65")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--search-config", default="{}", help="JSON: SearchConfig fields")
    args = parser.parse_args()
    log: list[tuple[float, int, str]] = []
    original = ensemble.EnsembleSearch._reseed

    def logged(self: ensemble.EnsembleSearch) -> None:
        best = self.population[0]
        log.append((time.perf_counter() - self.run.start, best.view.distance, best.sequence))
        original(self)

    ensemble.EnsembleSearch._reseed = logged  # type: ignore[method-assign]
    target = {t.name: t for t in load_dataset("eterna100-v2").targets}[args.puzzle].text
    search = SearchConfig(**json.loads(args.search_config))
    settings = DesignSettings(mode=args.mode, time_limit=args.time_limit, seed=args.seed, search=search)
    result = design(target, settings)
    print(f"{args.mode} #{args.puzzle} seed {args.seed}: solved {result.solved}, {len(log)} restarts")
    print("lineage best distances:", sorted(collections.Counter(d for _, d, _ in log).items()))
    print("lineage bests' first 8 bases:", collections.Counter(s[:8] for *_, s in log).most_common(5))
    for seconds, distance, sequence in log[:3] + log[-3:]:
        print(f"  {seconds:6.1f} s  distance {distance}  {sequence}")


if __name__ == "__main__":
    main()
