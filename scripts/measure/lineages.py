"""Whose descendants the whole target's search breeds from: the designer's start, a long target's composed
start (its parts), or the policy's designs (``hybrid``), and how close each lineage came.

    python scripts/measure/lineages.py --puzzle 97 --time-limit 60 --seed 1

Every design the whole target's search evaluates is given the lineage of the seed it descends from (a
child its parent's, a finished design the one it was finished from); the script counts the parents drawn
from each lineage and prints the closest design of each. A long target's parts (their own searches) are
left out.
"""

from __future__ import annotations

import time
from collections import Counter

import one_puzzle

from rnadesign.search import ensemble, hierarchy

ORIGIN: dict[str, str] = {}
PARENTS: Counter[str] = Counter()
BEST: dict[str, int] = {}
STATE = {"calls": 0, "in_parts": False, "composed": False, "current": None, "start": 0.0, "first_loop_s": None}


def main() -> None:
    parser = one_puzzle.arguments(__doc__, mode="hybrid", puzzle="97", time_limit=60.0)
    args = parser.parse_args()
    target = one_puzzle.target_of(args)
    search = ensemble.EnsembleSearch
    seed, evaluate, parent, finish = search.seed, search.evaluate, search.parent, search._finish
    run_until_done, hierarchical = search.run_until_done, hierarchy.hierarchical_start

    def whole(self) -> bool:
        return self.target is not None and len(self.target) == len(target) and not STATE["in_parts"]

    def seed_(self, sequences):
        if not whole(self):
            return seed(self, sequences)
        if STATE["first_loop_s"] is not None:
            label = "restart seeds"
        elif STATE["composed"]:
            label, STATE["composed"] = "composed start (parts)", False
        else:
            label = "designer's start" if STATE["calls"] == 0 else "policy designs"
        STATE["calls"] += 1
        saved, STATE["current"] = STATE["current"], label  # a seed repaired under constraints keeps the label
        try:
            return seed(self, sequences)
        finally:
            STATE["current"] = saved

    def evaluate_(self, sequence):
        if whole(self):  # before the evaluation: it finishes the design, whose result inherits the lineage
            ORIGIN.setdefault(sequence, STATE["current"] or "restart seeds")
        candidate = evaluate(self, sequence)
        if whole(self) and candidate is not None:
            label = ORIGIN[sequence]
            BEST[label] = min(BEST.get(label, 10**9), candidate.view.distance)
        return candidate

    def parent_(self):
        chosen = parent(self)
        if whole(self) and chosen is not None:
            PARENTS[ORIGIN.get(chosen.sequence, "?")] += 1
            STATE["current"] = ORIGIN.get(chosen.sequence, "?")
        return chosen

    def finish_(self, candidate):
        if whole(self):
            saved = STATE["current"]
            STATE["current"] = ORIGIN.get(candidate.sequence, saved or "?")
            pending = len(self.pending)
            finish(self, candidate)
            for s in self.pending[pending:]:
                ORIGIN.setdefault(s, STATE["current"])
            STATE["current"] = saved
        else:
            finish(self, candidate)

    def loop(self):
        if whole(self) and STATE["first_loop_s"] is None:
            STATE["first_loop_s"] = time.perf_counter() - STATE["start"]
            print(f"  the whole target's loop starts at {STATE['first_loop_s']:.1f} s with its population:")
            for c in self.population:
                label = ORIGIN.get(c.sequence, "?")
                print(f"    {label:24s} distance {c.view.distance:4d}  objective {c.objective:.3f}")
        return run_until_done(self)

    def hierarchical_(*a, **k):
        STATE["in_parts"] = True
        try:
            return hierarchical(*a, **k)
        finally:
            STATE["in_parts"], STATE["composed"] = False, True

    search.seed, search.evaluate, search.parent, search._finish = seed_, evaluate_, parent_, finish_
    search.run_until_done = loop
    hierarchy.hierarchical_start = hierarchical_  # the runners call it through this module
    STATE["start"] = time.perf_counter()
    result = one_puzzle.run(args, target)
    total = time.perf_counter() - STATE["start"]
    print(f"{args.mode} #{args.puzzle} ({len(target)} nt) seed {args.seed}: distance {result.distance}, {total:.1f} s")
    print("  parents drawn, by lineage:", dict(PARENTS))
    print("  closest design of each lineage:", BEST)


if __name__ == "__main__":
    main()
