"""How often the ensemble search restarts on one Eterna100-V2 puzzle, and where each lineage ended: the
measurement behind ``adapt_avoid`` (docs/design.md, session 18). It wraps ``EnsembleSearch._reseed`` to log,
at every restart, the seconds since the run's start, the lineage's best MFE distance and its first bases.

    python scripts/measure/restarts.py --mode hybrid --puzzle 65 --time-limit 30 --seed 1
    python scripts/measure/restarts.py --mode hybrid --puzzle 65 --search-config '{"adapt_avoid": 0}'
"""

from __future__ import annotations

import collections
import time

import one_puzzle

from rnadesign.search import ensemble


def main() -> None:
    parser = one_puzzle.arguments(__doc__, mode="hybrid", puzzle="65", time_limit=30.0)
    args = parser.parse_args()
    log: list[tuple[float, int, str]] = []
    original = ensemble.EnsembleSearch._reseed

    def logged(self: ensemble.EnsembleSearch) -> None:
        best = self.population[0]
        log.append((time.perf_counter() - self.run.start, best.view.distance, best.sequence))
        original(self)

    ensemble.EnsembleSearch._reseed = logged  # type: ignore[method-assign]
    result = one_puzzle.run(args, one_puzzle.target_of(args))
    print(f"{args.mode} #{args.puzzle} seed {args.seed}: solved {result.solved}, {len(log)} restarts")
    print("lineage best distances:", sorted(collections.Counter(d for _, d, _ in log).items()))
    print("lineage bests' first 8 bases:", collections.Counter(s[:8] for *_, s in log).most_common(5))
    for seconds, distance, sequence in log[:3] + log[-3:]:
        print(f"  {seconds:6.1f} s  distance {distance}  {sequence}")


if __name__ == "__main__":
    main()
