"""Where the ensemble search's finish time goes on one Eterna100-V2 puzzle: every design the search offered
to its finish (``EnsembleSearch._finish``), whether a finish ran, for how long, and where it ended; then the
run's final best design given to the repair alone (``--refinish`` seconds), to see whether a finish that
never reached it would have solved it.

    python scripts/measure/finishes.py --mode hybrid --puzzle 91 --time-limit 60 --seed 1 --refinish 15
"""

from __future__ import annotations

import time

import numpy as np
import one_puzzle

from rnadesign.model.structure import parse_structure
from rnadesign.run.clock import Deadline
from rnadesign.search import ensemble
from rnadesign.search.walk import decoy_repair


def main() -> None:
    parser = one_puzzle.arguments(__doc__, mode="hybrid", puzzle="91", time_limit=60.0)
    parser.add_argument("--refinish", type=float, default=15.0, help="seconds of repair for the final best")
    args = parser.parse_args()
    # the whole target's search only (a long target's parts are searched as runs of their own):
    offered: list[tuple[float, int, float, float, int]] = []  # (at, distance, finish_best before, seconds, walked)
    original = ensemble.EnsembleSearch._finish

    def logged(self: ensemble.EnsembleSearch, candidate: ensemble.Candidate) -> None:
        before, spent, start = self.finish_best, self.finish_time, time.perf_counter()
        pending = len(self.pending)
        original(self, candidate)
        if len(self.target) != len(text):
            return
        if self.finish_time > spent:  # a finish ran
            walked = -1 if len(self.pending) == pending else 1
            offered.append((start - self.run.start, candidate.view.distance, before, self.finish_time - spent, walked))
        elif candidate.view.distance and candidate.view.distance <= before:
            offered.append((start - self.run.start, candidate.view.distance, before, 0.0, 0))

    ensemble.EnsembleSearch._finish = logged  # type: ignore[method-assign]
    text = one_puzzle.target_of(args)
    result = one_puzzle.run(args, text)
    ran = [o for o in offered if o[3] > 0]
    print(
        f"{args.mode} #{args.puzzle} ({len(text)} nt) seed {args.seed}: solved {result.solved}, "
        f"distance {result.distance}; {len(ran)} finishes, {sum(o[3] for o in ran):.1f} s"
    )
    refused = [o for o in offered if o[3] == 0]
    first = {}
    for o in refused:
        first.setdefault(o[1], o[0])
    print(
        f"  offered and refused by the share: {len(refused)}; first refused at each distance: "
        + ", ".join(f"{d} at {at:.1f} s" for d, at in sorted(first.items()))
    )
    for at, distance, before, seconds, walked in ran:
        print(
            f"  {at:6.1f} s  distance {distance:3d} (closest finished before {before})  {seconds:5.1f} s  "
            f"{'closer' if walked > 0 else 'no closer'}"
        )
    if not result.solved and args.refinish > 0:
        target = parse_structure(text)
        walk = decoy_repair(
            result.sequence,
            target,
            np.random.default_rng(args.seed),
            max_folds=len(target),
            deadline=Deadline(time.perf_counter() + args.refinish),
        )
        print(
            f"  the final best ({result.distance} off) repaired alone for {args.refinish} s: "
            f"distance {walk.distance} after {walk.folds} folds"
        )


if __name__ == "__main__":
    main()
