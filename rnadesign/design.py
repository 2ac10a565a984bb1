"""Designing one target: the settings, the result, and :func:`design`, which runs a mode.

What a mode does lives in its runner (see :mod:`rnadesign.modes`); the state of one run lives in
:class:`~rnadesign.run.state.DesignRun`. Every solution is folded again here, independently of the
runner, before it is reported.
"""

from __future__ import annotations

import logging
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import RnaDesignError
from .model.folding import DEFAULT_MODEL, FoldingModel, vienna_version
from .model.metrics import DesignMetrics, design_metrics, gc_content
from .model.structure import Structure, parse_structure
from .modes import MODES, get_mode
from .run.settings import DesignSettings
from .run.state import DesignRun, OnBest

if TYPE_CHECKING:
    from .config import AgentConfig
    from .rl.policy_file import PolicyFile

__all__ = ["MODES", "BudgetTooSmallError", "Design", "DesignInterrupted", "DesignSettings", "design", "rank_designs"]

_log = logging.getLogger("rnadesign.design")


class BudgetTooSmallError(RnaDesignError):
    """The time limit cannot fit even one fold of the target and the check of its result."""


@dataclass
class Design:
    """The outcome of designing one target."""

    name: str
    target: str
    sequence: str
    """Best design: the top-ranked solution, or the design closest to the target ("" if none finished)."""
    structure: str
    """MFE structure of ``sequence``, folded again after the run."""
    distance: int
    """Hamming distance between ``structure`` and ``target``."""
    solved: bool
    """Folds into the target and satisfies the constraints."""
    time_s: float
    """Seconds until the last requested solution was found, or the whole time spent."""
    seed: int
    mode: str
    unique_mfe: bool | None = False
    """``target`` is the only structure at the MFE of ``sequence`` (None: a solution the time limit left
    no time to check)."""
    episodes: int = 0
    restarts: int = 0
    lineages: int = 0
    """Restarts of the ensemble search (new lineages) in the run's own search."""
    best_lineage: int = 0
    """The search lineage (0: the first) in which the run's closest design (its first solution, when solved)
    was recorded: under ``SearchConfig.style`` "alternate" an odd one is the pyrimidine style's."""
    folds: int = 0
    """ViennaRNA folds the run spent (environment and local search)."""
    solutions: list[str] = field(default_factory=list)
    """Distinct verified solutions, ranked by :func:`rank_designs`."""
    constraints: dict[str, Any] | None = None
    """The constraints designed under (:meth:`DesignConstraints.to_dict`), None when unconstrained."""
    constraints_satisfied: bool | None = None
    """``sequence`` satisfies them (None when unconstrained)."""
    violations: list[str] = field(default_factory=list)
    """What ``sequence`` breaks of them, one line each, positions 1-based."""
    metrics: list[DesignMetrics] = field(default_factory=list)
    """Each solution folded again and measured, in the order of ``solutions``; when none was found, the
    best design's alone (empty when not even one design finished)."""
    folding: FoldingModel = DEFAULT_MODEL
    """The energy model of every fold of the run and of the metrics."""
    vienna_version: str = field(default_factory=vienna_version)
    interrupted: bool = False
    """The run was stopped (Ctrl-C) before its time limit: ``sequence`` is the best design so far."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def design(
    target: str | Structure,
    settings: DesignSettings | None = None,
    agent: AgentConfig | str | Path | None = None,
    *,
    name: str = "target",
    on_best: OnBest | None = None,
    resolved: tuple[AgentConfig | None, PolicyFile | None] | None = None,
) -> Design:
    """Design sequences for one target.

    Args:
        target: dot-bracket string or parsed :class:`Structure`.
        settings: budget, mode and seed (defaults: the default mode, 60 s, fresh seed).
        agent: configuration for a mode that trains an agent (``learna``): an :class:`AgentConfig`,
            a preset name or a JSON file; defaults to the mode's preset. Modes that use a policy file
            take their agent from it.
        name: identifier carried into the result and the progress lines.
        on_best: called whenever the best design improves (the design is not yet re-verified then).
        resolved: the mode's agent and policy file as :meth:`Mode.resolve` returned them, for a caller that
            designs many targets (the command line resolves the mode once and reads a policy file once);
            None: resolved here from ``agent`` and ``settings.policy``.

    Returns:
        A :class:`Design`, whose ``sequence`` was folded again after the run.

    Raises:
        InvalidStructureError: ``target`` is not a valid dot-bracket string.
        PolicyFileError: a policy file is missing or unreadable.
        ConfigError: ``agent`` given for a mode that takes none, or invalid values.
        ConstraintError: the settings' constraints are impossible for ``target`` (before any work).
    """
    settings = settings or DesignSettings()
    structure = target if isinstance(target, Structure) else parse_structure(target)
    mode = get_mode(settings.mode)
    if not mode.stall_restart and settings.stall_restart:
        settings = replace(settings, stall_restart=0.0)  # the registry's word, so runners need not ask it
    if mode.searches:  # the mode's own values where the search's configuration leaves them to it
        settings = replace(settings, search=mode.search_config(settings.search))
    seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**31)
    run = DesignRun(structure, settings, seed, name=name, on_best=on_best)
    _check_budget(run)
    resolved_agent, policy = mode.resolve(agent, settings.policy) if resolved is None else resolved
    random.seed(seed)  # runners that use torch seed it too (agent.seed_everything)
    np.random.seed(seed % 2**32)
    try:
        mode.load_runner()(run, resolved_agent, policy)
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM, which the command line turns into it)
        raise DesignInterrupted(_interrupted_result(run)) from None
    return _result(run)


class DesignInterrupted(KeyboardInterrupt):
    """A design stopped by Ctrl-C; ``result`` is the best design so far (``interrupted`` set), or None
    when not even one design had finished."""

    def __init__(self, result: Design | None):
        super().__init__()
        self.result = result


def _interrupted_result(run: DesignRun) -> Design | None:
    if not run.solutions and not run.best_sequence:
        return None
    return replace(_result(run), interrupted=True)


#: Folds' worth of time a design needs at the least: one episode's fold and the final refold.
_MIN_FOLDS = 2
#: The metrics of one design (MFE, unique-MFE check, partition function with pair probabilities) cost
#: about this many folds (measured, ViennaRNA 2.8: 2.5x at 100 nt, 5x at 300 nt).
_METRIC_FOLDS = 5


def _check_budget(run: DesignRun) -> None:
    """Refuse, before any work, a budget in which not even one design can be folded and checked."""
    fold_s = run.clock.fold_s
    if _MIN_FOLDS * fold_s > run.settings.time_limit:
        raise BudgetTooSmallError(
            f"{run.name}: one fold of this {len(run.target)}-nt target takes about {fold_s:.1f}s here "
            f"(folding time grows as N^2-N^3), so a {run.settings.time_limit:g}s time limit "
            f"leaves no time to design and check even one sequence; give at least {_MIN_FOLDS * fold_s:.0f}s "
            "(and far more to search)"
        )
    if 10 * _MIN_FOLDS * fold_s > run.settings.time_limit:
        _log.warning(
            "%s: one fold takes about %.1fs here: a %gs time limit leaves room for only a few designs",
            run.name,
            fold_s,
            run.settings.time_limit,
        )


def rank_designs(metrics: list[DesignMetrics]) -> list[DesignMetrics]:
    """Best first: the highest probability of the target in the ensemble, ties broken by the lower
    normalised ensemble defect, then by the order given (the order found); designs the time limit
    left unmeasured (probability None) come last."""

    def key(m: DesignMetrics) -> tuple:
        return (m.probability is None, -(m.probability or 0.0), m.ensemble_defect or 0.0)

    return sorted(metrics, key=key)


def _result(run: DesignRun) -> Design:
    structure, settings = run.target, run.settings
    elapsed = run.elapsed()
    common = {
        "name": run.name,
        "target": structure.dot_bracket,
        "seed": run.seed,
        "mode": settings.mode,
        "episodes": run.episodes,
        "restarts": run.restarts,
        "lineages": run.lineages,
        "best_lineage": run.best_lineage,
        "folds": run.folds,
        "folding": settings.folding,
    }
    if run.required is not None:
        common["constraints"] = settings.constraints.to_dict()
    if not run.solutions and not run.best_sequence:  # not even one design finished within the budget
        if run.required is not None:
            common.update(constraints_satisfied=False, violations=["no design finished"])
        return Design(sequence="", structure="", distance=len(structure), solved=False, time_s=elapsed, **common)

    # Every reported design is folded again here (the clock keeps one fold in reserve for the first), with the
    # ensemble's view while time is left. A further solution with no time left for a fold is reported from its
    # verification when it was found (a fold of its own), so many solutions cannot overrun the limit.
    def measure(index: int, sequence: str) -> DesignMetrics:
        clock = run.clock
        if clock.fits(_METRIC_FOLDS * clock.fold_s):
            return design_metrics(sequence, structure, settings.folding)
        if index == 0 or clock.fits_fold() or sequence not in run.checks:
            return design_metrics(sequence, structure, settings.folding, ensemble=False)
        check = run.checks[sequence]
        return DesignMetrics(**{**asdict(check), "unique": None}, gc_content=gc_content(sequence))

    metrics = [measure(i, s) for i, s in enumerate(run.solutions or [run.best_sequence])]
    unmeasured = sum(m.probability is None for m in metrics)
    if unmeasured:
        # An unsolved design has used the whole limit, so that is the rule there, not news; a solution unmeasured is.
        (_log.warning if run.solutions else _log.debug)(
            "[%s] no time left to measure %d of %d designs in the ensemble (probability, defect, unique MFE)",
            run.name,
            unmeasured,
            len(metrics),
        )
    metrics = rank_designs(metrics)
    if run.required is not None:
        # Every solution satisfies them (DesignRun.record); the best unsolved design, which may fold into the
        # target, may not, and is then not solved.
        ok = {m.sequence: run.required.satisfied(m.sequence) for m in metrics}
        metrics = [m if ok[m.sequence] else replace(m, solved=False) for m in metrics]
        common["constraints_satisfied"] = ok[metrics[0].sequence]
        common["violations"] = run.required.violations(metrics[0].sequence)
    best = metrics[0]
    return Design(
        sequence=best.sequence,
        structure=best.structure,
        distance=best.distance,
        solved=best.solved,
        time_s=run.solved_at if run.solved_at is not None else elapsed,
        unique_mfe=best.unique,
        solutions=[m.sequence for m in metrics] if run.solutions else [],
        metrics=metrics,
        **common,
    )
