"""Could a child's target energy screen it before its ensemble view? On one Eterna100-V2 puzzle, every child
the ensemble search evaluates is logged with the change of its target structure's free energy from its
parent's (``E(target)``: an O(n) evaluation, against an MFE fold and a partition function for the view)
and whether it entered the population. Prints, for thresholds on that change, the share of children a
screen at the threshold would skip and the share of the population's entries it would lose.

    python scripts/measure/energy_screen.py --mode search --puzzle 90 --time-limit 30 --seed 1
"""

from __future__ import annotations

import numpy as np
import one_puzzle

from rnadesign.model.folding import energies
from rnadesign.search import ensemble


def main() -> None:
    parser = one_puzzle.arguments(__doc__, mode="search", puzzle="90", time_limit=30.0)
    args = parser.parse_args()
    text = one_puzzle.target_of(args)
    rows: list[tuple[float, bool, bool]] = []  # (E(child) - E(parent) at the target, entered, a new best)
    parents: list[str] = []
    evaluated: list[str] = []
    mutate, offer, evaluate = (
        ensemble.EnsembleSearch.mutate,
        ensemble.EnsembleSearch.offer_child,
        ensemble.EnsembleSearch.evaluate,
    )

    def mutated(self: ensemble.EnsembleSearch, parent: ensemble.Candidate) -> str | None:
        parents.append(parent.sequence)
        return mutate(self, parent)

    def evaluated_(self: ensemble.EnsembleSearch, sequence: str) -> ensemble.Candidate | None:
        evaluated.append(sequence)
        return evaluate(self, sequence)

    def offered(self: ensemble.EnsembleSearch) -> bool:
        parents.clear()
        evaluated.clear()
        before, best = {c.sequence for c in self.population}, self.best_objective
        kept = offer(self)
        # a mutation (of the target or, on a long one, of one of its parts), evaluated: the last sequence offered
        if parents and evaluated:
            child = evaluated[-1]
            entered = child not in before and any(c.sequence == child for c in self.population)
            target, model = [self.target.dot_bracket], self.run.settings.folding
            change = energies(child, target, model)[0] - energies(parents[0], target, model)[0]
            rows.append((change, entered, self.best_objective < best))
        return kept

    ensemble.EnsembleSearch.mutate = mutated  # type: ignore[method-assign]
    ensemble.EnsembleSearch.offer_child = offered  # type: ignore[method-assign]
    ensemble.EnsembleSearch.evaluate = evaluated_  # type: ignore[method-assign]
    result = one_puzzle.run(args, text)
    changes = np.array([r[0] for r in rows])
    entered = np.array([r[1] for r in rows], dtype=bool)
    improved = np.array([r[2] for r in rows], dtype=bool)
    print(
        f"{args.mode} #{args.puzzle} ({len(text)} nt) seed {args.seed}: solved {result.solved}, distance "
        f"{result.distance}; {len(rows)} children (the target's and its parts'), "
        f"{entered.sum()} entered the population, {improved.sum()} were new bests"
    )
    for threshold in (0.0, 0.5, 1.0, 2.0, 3.0, 5.0):
        skip = changes > threshold
        lost = (skip & entered).sum() / max(1, entered.sum())
        lost_best = (skip & improved).sum() / max(1, improved.sum())
        print(
            f"  screen at dE > {threshold:3.1f} kcal/mol: skips {skip.mean():5.1%} of children, "
            f"loses {lost:5.1%} of entries and {lost_best:5.1%} of new bests"
        )


if __name__ == "__main__":
    main()
