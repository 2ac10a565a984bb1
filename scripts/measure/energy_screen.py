"""Could a child's target energy screen it before its ensemble view? On one Eterna100-V2 puzzle, every child
the ensemble search evaluates is logged with the change of its target structure's free energy from its
parent's (``E(target)``: an O(n) evaluation, against an MFE fold and a partition function for the view)
and whether it entered the population. Prints, for thresholds on that change, the share of children a
screen at the threshold would skip and the share of the population's entries it would lose; and how well
two energy scores rank the children that beat their parent's objective (the area under the ROC curve): the
change of E(target) alone, and with the change of E(parent's MFE structure), the decoy the parent folds into.

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
    # (E(child) - E(parent) at the target, entered, a new best, the same at the parent's MFE structure,
    # the child's objective below its parent's)
    rows: list[tuple[float, bool, bool, float, bool]] = []
    parents: list[ensemble.Candidate] = []
    evaluated: list[str] = []
    mutate, offer, evaluate = (
        ensemble.EnsembleSearch.mutate,
        ensemble.EnsembleSearch.offer_child,
        ensemble.EnsembleSearch.evaluate,
    )

    def mutated(self: ensemble.EnsembleSearch, parent: ensemble.Candidate) -> str | None:
        parents.append(parent)
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
            parent, model = parents[0], self.run.settings.folding
            structures = [self.target.dot_bracket, parent.view.structure]
            on_target, on_decoy = energies(child, structures, model)
            was_target, was_decoy = energies(parent.sequence, structures, model)
            beat = self.seen[child].objective < parent.objective if child in self.seen else False
            rows.append((on_target - was_target, entered, self.best_objective < best, on_decoy - was_decoy, beat))
        return kept

    ensemble.EnsembleSearch.mutate = mutated  # type: ignore[method-assign]
    ensemble.EnsembleSearch.offer_child = offered  # type: ignore[method-assign]
    ensemble.EnsembleSearch.evaluate = evaluated_  # type: ignore[method-assign]
    result = one_puzzle.run(args, text)
    changes = np.array([r[0] for r in rows])
    entered = np.array([r[1] for r in rows], dtype=bool)
    improved = np.array([r[2] for r in rows], dtype=bool)
    decoy = np.array([r[3] for r in rows])
    beat = np.array([r[4] for r in rows], dtype=bool)
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
    print(f"  {beat.mean():.1%} of children beat their parent's objective; how well a score ranks them (ROC area):")
    for name, score in (("-dE(target)", -changes), ("-dE(target) + 0.5 dE(parent's MFE)", -changes + 0.5 * decoy)):
        print(f"    {name:36s} {roc_area(score, beat):.3f}")


def roc_area(score: np.ndarray, label: np.ndarray) -> float:
    """The area under the ROC curve of ``score`` for ``label`` (ties count half); nan without both classes."""
    positives, negatives = score[label], score[~label]
    if not len(positives) or not len(negatives):
        return float("nan")
    order = np.sort(negatives)
    below = np.searchsorted(order, positives, side="left")
    ties = np.searchsorted(order, positives, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(positives) * len(negatives)))


if __name__ == "__main__":
    main()
