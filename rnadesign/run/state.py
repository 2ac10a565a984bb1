"""The state of one design run, in one object that every runner is handed.

:class:`DesignRun` holds the target, the settings, the seeded generator, the clock (start and
deadline), the best design so far, the verified solutions and the work spent (episodes, folds,
restarts). Runners record designs on it; it refines promising policy designs by local search,
verifies every solution by folding it again, and reports progress through :mod:`logging`. Under
constraints (``settings.constraints``, bound to the target here, before any work) a design is a solution
only if it also satisfies them, and the best design so far prefers one that does.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model.folding import estimate_fold_seconds
from ..model.metrics import DesignCheck, check_design
from ..model.structure import Structure
from .clock import Deadline

if TYPE_CHECKING:
    from ..model.constraints import BoundConstraints
    from .settings import DesignSettings

__all__ = ["DesignRun", "OnBest"]

_log = logging.getLogger("rnadesign.design")

#: Called with (sequence, distance, seconds since the design started) whenever the best design improves.
OnBest = Callable[[str, int, float], None]
#: A local search that polishes one design (:func:`~rnadesign.search.walk.adaptive_walk`'s signature): the
#: runner that wants its designs refined passes it in, so the run core imports no search.
Refine = Callable[..., Any]


class DesignRun:
    """One design of one target: budget, randomness, best so far, solutions, work spent."""

    def __init__(
        self,
        target: Structure,
        settings: DesignSettings,
        seed: int,
        *,
        name: str = "target",
        start: float | None = None,
        on_best: OnBest | None = None,
        fold_s: float | None = None,
    ):
        self.target = target
        self.settings = settings
        self.constraints: BoundConstraints | None = None
        """What every design is drawn under: the settings' constraints bound to the target and, where the
        search locks fragile motifs (``SearchConfig.lock_motifs``), those locks; None when nothing is
        constrained (every runner then runs exactly as without them)."""
        if settings.constraints is not None and settings.constraints.active:
            self.constraints = settings.constraints.bind(target)
        self.required: BoundConstraints | None = self.constraints
        """The settings' constraints, which a solution must satisfy and the result reports. The designers
        draw under :attr:`constraints`, which may hold more (``SearchConfig.lock_motifs``), never less."""
        self.seed = seed
        self.name = name
        self.on_best = on_best
        self.start = time.perf_counter() if start is None else start
        self.deadline = self.start + settings.time_limit
        """``time.perf_counter()`` value by which the run must have returned its result."""
        if fold_s is None:
            fold_s = estimate_fold_seconds(len(target), settings.folding)
        self.clock = Deadline(self.deadline, fold_s)
        """Shared with everything that folds for this run: one more fold is started only if it (and the
        final check of the best design) still fits before the deadline. Its first fold estimate is
        ``fold_s`` if given (e.g. a part's, from its whole target's), else a timed fold of that length."""
        self.rng = np.random.default_rng(seed)
        """The run's generator: every random choice outside the agent draws from it."""
        self.best_distance = len(target) + 1
        self.best_sequence = ""
        self.best_satisfied = False
        """The best design satisfies the constraints (always, once there is one, without constraints)."""
        self.best_policy_distance = len(target) + 1
        """Best distance among designs the policy proposed (refinement starts only from new bests)."""
        self.solutions: list[str] = []
        """Distinct verified solutions, in the order found."""
        self.checks: dict[str, DesignCheck] = {}
        """Each solution's verification (``check_design``, a fold of its own), kept for the report."""
        self.solved_at: float | None = None
        """Seconds from start until the last requested solution was found."""
        self.last_solution = self.start
        self.episodes = 0
        self.folds = 0
        """ViennaRNA folds spent by the environment and the local search."""
        self.restarts = 0
        self.lineages = 0
        """Times the ensemble search began a new lineage (its restarts; a part's search counts on its own run)."""
        self.best_lineage = 0
        """The value of ``lineages`` when the best design was recorded: under ``SearchConfig.style``
        "alternate", an even lineage is the designer's style, an odd one the pyrimidine style."""
        self.refine_time = 0.0
        self._next_report = self.start + settings.progress_every

    # -- the clock ------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """As many solutions as were asked for."""
        return len(self.solutions) >= self.settings.num_solutions

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def time_left(self) -> float:
        return self.deadline - time.perf_counter()

    def should_stop(self, stop_at: float | None = None) -> bool:
        """Done, past ``stop_at``, or no time left for another fold; reports progress when due."""
        now = time.perf_counter()
        if now >= self._next_report:
            self._next_report = now + self.settings.progress_every
            _log.info(
                "[%s] %6.1fs  episodes %d  best distance %d  solutions %d/%d",
                self.name,
                now - self.start,
                self.episodes,
                self.best_distance,
                len(self.solutions),
                self.settings.num_solutions,
            )
        return self.done or (stop_at is not None and now >= stop_at) or not self.clock.fits_fold()

    # -- recording designs ----------------------------------------------------------------------
    def record_episode(
        self, sequence: str, distance: int, folds: int = 1, folded: bool = True, *, refine: Refine | None = None
    ) -> None:
        """Record a design the policy produced; with ``refine`` (a local search such as
        :func:`~rnadesign.search.walk.adaptive_walk`), refine it by that search if it is among the policy's best.

        The walk gets at most ``settings.refine_share`` of the time elapsed so far. An episode the
        environment ended unfolded (no time left for its fold) counts as an episode and nothing more.
        """
        self.episodes += 1
        self.folds += folds
        if not folded:
            return
        if not refine:
            self.record(sequence, distance)
            return
        self.record(sequence, distance)
        solved = distance == 0 and (self.required is None or self.required.satisfied(sequence))
        if solved or distance > self.best_policy_distance:
            return
        self.best_policy_distance = distance
        now = time.perf_counter()
        share = self.settings.refine_share
        if self.done or share == 0 or self.refine_time > share * (now - self.start) or not self.clock.fits_fold():
            return
        walk = refine(
            sequence,
            self.target,
            self.rng,
            max_folds=len(self.target),
            deadline=self.clock,
            model=self.settings.folding,
            constraints=self.constraints,
        )
        self.refine_time += time.perf_counter() - now
        self.folds += walk.folds
        self.record(walk.sequence, walk.distance)

    def record(self, sequence: str, distance: int) -> None:
        """Record a design at ``distance`` from the target; a solution is verified by folding it again.

        Under constraints a design that satisfies them beats any that does not, and only one that does
        can be a solution."""
        if self.required is None:
            satisfied, better = True, distance < self.best_distance
        else:
            satisfied = self.required.satisfied(sequence)
            better = (not satisfied, distance) < (not self.best_satisfied, self.best_distance)
        if better:
            self.best_distance, self.best_sequence, self.best_satisfied = distance, sequence, satisfied
            self.best_lineage = self.lineages
            if self.on_best is not None:
                self.on_best(sequence, distance, time.perf_counter() - self.start)
        if distance == 0 and satisfied and not self.done and sequence not in self.solutions:
            check = check_design(sequence, self.target, self.settings.folding)
            if not check.solved:
                warnings.warn(f"a design reported as solved does not refold: {sequence}", stacklevel=2)
                return
            self.checks[sequence] = check
            self.solutions.append(sequence)
            self.last_solution = time.perf_counter()
            if self.done:
                self.solved_at = self.last_solution - self.start
