"""A design's deadline, and whether one more ViennaRNA fold still fits before it.

A time limit is a promise: a loop that folds (the environment's local step, the refinement walk,
the episodes themselves) asks :meth:`Deadline.fits_fold` before each fold, with the fold time
measured on the run's own folds, and keeps room for the final check of the best design. One object
is shared by everything one design run folds with, so the estimate is the run's.
"""

from __future__ import annotations

import time

from ..model.folding import DEFAULT_MODEL, FoldingModel, fold

__all__ = ["Deadline", "follow"]


def follow(estimate: float, seconds: float) -> float:
    """A running estimate of a duration after one more measurement: up at once to a slow one, down
    gradually after a fast one (so one lucky measurement does not shrink a deadline's margin)."""
    return max(seconds, 0.8 * estimate + 0.2 * seconds)


class Deadline:
    """A ``time.perf_counter()`` value to finish by (None: never) and a running estimate of one fold.

    Args:
        at: when the run must have returned.
        fold_s: a first estimate of one fold's seconds (e.g. :func:`~rnadesign.model.folding.estimate_fold_seconds`).
        reserve_folds: folds' worth of time kept back for the final check of the best design (one
            refold; the unique-MFE check of a solution, 2-3 folds more, is made only if it fits).
    """

    def __init__(self, at: float | None, fold_s: float = 0.0, reserve_folds: float = 1.0):
        self.at = at
        self.fold_s = fold_s
        self.reserve_folds = reserve_folds

    def left(self) -> float:
        """Seconds until the deadline (inf without one)."""
        return float("inf") if self.at is None else self.at - time.perf_counter()

    def fits(self, seconds: float) -> bool:
        """``seconds`` of work, then the final check, still end before the deadline."""
        return self.at is None or time.perf_counter() + seconds + self.reserve_folds * self.fold_s <= self.at

    def share(self, seconds: float, margin: float = 0.0, now: float | None = None) -> Deadline:
        """A deadline for a piece of the work: ``seconds`` from ``now`` (None: the clock's now), but no later
        than ``margin`` seconds before this one; it starts from this one's fold estimate and reserve."""
        now = time.perf_counter() if now is None else now
        at = now + seconds if self.at is None else min(self.at - margin, now + seconds)
        return Deadline(at, self.fold_s, self.reserve_folds)

    def fits_fold(self) -> bool:
        """One more fold (of the length folded so far) still fits."""
        return self.fits(self.fold_s)

    def fold(self, sequence: str, model: FoldingModel = DEFAULT_MODEL) -> tuple[str, float]:
        """:func:`~rnadesign.model.folding.fold`, timed; the fold estimate follows the folds measured
        (:func:`follow`)."""
        start = time.perf_counter()
        result = fold(sequence, model)
        seconds = time.perf_counter() - start
        self.fold_s = follow(self.fold_s, seconds)
        return result
