"""How the crossover between lineages is used on one design: grafts proposed, grafts that joined the
population, grafts that brought the best MFE distance down, chimeras seeded and how close they came.

    python scripts/measure/crossover_use.py --puzzle 87 --time-limit 20 --seed 1

Prints one line per counter and the design's final distance. Session 25 (docs/design.md): #87 at 20 s,
4 restarts, 292 grafts, 236 joined the population, none closer than the best before, no chimera; #71
(one branch) and #68 (no restart in 60 s) none.
"""

from __future__ import annotations

import argparse
import json

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.config import SearchConfig
from rnadesign.design import DesignSettings, design
from rnadesign.search import crossover, ensemble

COUNTS = dict.fromkeys(
    ["restarts", "grafts", "grafts_kept", "grafts_closer", "chimeras", "chimeras_closer_than_archive"], 0
)
_graft, _chimera, _add, _reseed = (
    crossover.Archive.graft,
    crossover.Archive.chimera,
    ensemble.EnsembleSearch.add,
    ensemble.EnsembleSearch._reseed,
)
_grafted: set[str] = set()
_chimeras: dict[str, int] = {}


def graft(self, *args, **kwargs):
    child = _graft(self, *args, **kwargs)
    if child is not None:
        COUNTS["grafts"] += 1
        _grafted.add(child)
    return child


def chimera(self, rng):
    child = _chimera(self, rng)
    if child is not None:
        COUNTS["chimeras"] += 1
        _chimeras[child] = self.entries[0][0]
    return child


def add(self, candidate):
    best = min((c.view.distance for c in self.population), default=10**9)
    _add(self, candidate)
    sequence = candidate.sequence
    if sequence in _grafted:
        COUNTS["grafts_kept"] += any(c.sequence == sequence for c in self.population)
        COUNTS["grafts_closer"] += candidate.view.distance < best
        _grafted.discard(sequence)
    if sequence in _chimeras:
        COUNTS["chimeras_closer_than_archive"] += candidate.view.distance < _chimeras.pop(sequence)


def reseed(self):
    COUNTS["restarts"] += 1
    _reseed(self)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puzzle", default="87", help="an Eterna100-V2 puzzle number")
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "search"])
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--search-config", default='{"crossover": 0.2, "chimera": true}', help="JSON")
    args = parser.parse_args()
    crossover.Archive.graft, crossover.Archive.chimera = graft, chimera  # type: ignore[method-assign]
    ensemble.EnsembleSearch.add, ensemble.EnsembleSearch._reseed = add, reseed  # type: ignore[method-assign]
    target = {t.name: t.text for t in load_dataset("eterna100-v2").targets}[args.puzzle]
    config = SearchConfig(**json.loads(args.search_config))
    result = design(target, DesignSettings(mode=args.mode, time_limit=args.time_limit, seed=args.seed, search=config))
    for key, value in COUNTS.items():
        print(f"{key}: {value}")
    print(f"distance: {result.distance}  time: {result.time_s:.1f} s")


if __name__ == "__main__":
    main()
