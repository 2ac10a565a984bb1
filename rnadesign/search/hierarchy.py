"""Hierarchical starts for long targets: design the parts alone, then the whole from their designs.

A long target's loop tree is cut into parts that are cheap to design: a part is a segment of the
dot-bracket that is itself a structure (a run of sibling helices with the unpaired sites between them,
or the inside of a helix). A part of at most ``leaf`` sites is designed alone by the ensemble search (a
fold at 100 nt costs about a twentieth of one at 400); a longer one is split between two of its sibling
helices near its middle, both halves are designed, and the search starts from their concatenation to
make the pair fold together (designs of one module that fold alone often pair with each other); a
helix that encloses the whole part is stripped, its inside designed, and its pairs take the designer's
GC/CG. The target's own start is the concatenation at the root: the run's search finishes it, as it
finishes the designer's start. NUPACK's design decomposes in the same spirit (and keeps the parts'
designs as constraints; here they are only a start).

Under design constraints each part is designed under its segment of them
(:meth:`~rnadesign.model.constraints.DesignConstraints.segment`: its part of the sequence constraint, the
GC window, the forbidden motifs, the wobble rule); a part whose segment cannot meet the GC window
alone is designed without it. The run's search repairs the composition to the whole target's
constraints (the GC window over the whole, motifs across the parts' ends) before it evaluates it.

Measured (README, session 10; one run a puzzle, 60 s, the same hour): Eterna100-V2 83 of 100 with it,
79 without; solved only with it #73, 76, 81, 91 and 94 (214-398 nt, repeated modules whose GC-rich
designs pair with each other when the whole is designed at once), only without it #74. The
composition itself is often still tens of sites off: what counts is that the search and its finish
start from designs whose parts fold. Under a GC window (0.5 +- 0.1, the 34 puzzles of 150 nt or more,
two runs each, session 12): 40 of 68 attempts solved against 37 with the parts' start left out.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import TYPE_CHECKING

import numpy as np

from ..model.constraints import ConstraintError
from ..model.structure import Structure, outer_pairs, parse_structure
from ..run.state import DesignRun
from .adapt import MovePolicy
from .ensemble import EnsembleSearch, designer_start
from .start import first_style

if TYPE_CHECKING:
    from ..config import SearchConfig
    from ..run.settings import DesignSettings

__all__ = ["applies", "hierarchical_start", "parts", "plan"]

_log = logging.getLogger("rnadesign.design")


def applies(target: Structure, config: SearchConfig) -> bool:
    """A hierarchical start is tried for ``target``: at least ``config.hierarchy`` sites (0, or a
    ``hierarchy_share`` of 0: never) and more than one part (a target that is one leaf, or a single helix
    around one leaf, is designed whole)."""
    return (
        config.hierarchy > 0
        and config.hierarchy_share > 0
        and len(target) >= config.hierarchy
        and len(parts(target, config.hierarchy_leaf)) > 1
    )


def plan(target: Structure, leaf: int) -> list[tuple[str, int, int]]:
    """The decomposition, in the order it is designed: ``("part", lo, hi)``, a part of at most ``leaf`` sites
    designed alone; ``("join", lo, hi)``, the designs of two neighbouring segments joined and designed
    together. Site ranges end exclusive. Segments with no pair have no step (their sites stay as the
    designer's start has them), nor has the root's join (the run's own search makes it)."""
    steps: list[tuple[str, int, int]] = []

    def visit(lo: int, hi: int, root: bool = False) -> None:
        while True:  # strip helices in a loop: a long ladder of lone pairs would nest too deep for recursion
            if "(" not in target.dot_bracket[lo:hi]:
                return
            if hi - lo <= leaf:
                steps.append(("part", lo, hi))
                return
            pairs = [p - lo if p >= 0 else -1 for p in target.pairs[lo:hi]]
            elements = outer_pairs(pairs)
            if len(elements) > 1:
                break
            i, j = elements[0]  # a helix (with unpaired flanks): its inside is the segment
            while pairs[i + 1] == j - 1:
                i, j = i + 1, j - 1
            lo, hi, root = lo + i + 1, lo + j, False
        cut = lo + _cut(elements, hi - lo)
        visit(lo, cut)
        visit(cut, hi)
        if not root:
            steps.append(("join", lo, hi))

    visit(0, len(target), root=True)
    return steps


def parts(target: Structure, leaf: int) -> list[tuple[int, int]]:
    """The parts :func:`plan` designs alone, as (start, end) site ranges, end exclusive, left to right."""
    return [(lo, hi) for kind, lo, hi in plan(target, leaf) if kind == "part"]


def _cut(elements: list[tuple[int, int]], length: int) -> int:
    """Where a run of sibling helices splits: at the start of the sibling nearest the middle."""
    return min((start for start, _ in elements[1:]), key=lambda start: abs(start - length / 2))


def hierarchical_start(
    run: DesignRun, config: SearchConfig, start: str, priors: tuple[np.ndarray, np.ndarray] | None = None
) -> str:
    """A start for ``run.target`` composed of its parts' designs (see the module docstring).

    ``start`` (the designer's) gives the sites no part covers: helices' pairs and unpaired sites between
    parts. The parts and joins are designed within ``config.hierarchy_share`` of the time limit in all, each
    within a share of it by its length (``config.hierarchy_time``), and each stops when its part folds; the
    folds are counted on ``run``. Under constraints each part obeys its segment of them (see the
    module docstring).

    ``priors`` (``hybrid``: the policy's action probabilities at every site of the whole target, as
    :func:`~rnadesign.runners.hybrid.policy_priors` gives them) make each part's search a ``hybrid`` one:
    its rows are mixed into the part's mutation priors (``config.policy_prior``), and a part designed alone
    is also seeded with ``config.policy_designs`` designs drawn from them. A structure-only policy's
    choice at a site depends only on the structure around it, so a draw from the rows is the policy's own
    design of the part, seen in the whole target's context.
    """
    target, settings = run.target, run.settings
    share = config.hierarchy_share * settings.time_limit
    parts_clock = run.clock.share(share, margin=0.1 * settings.time_limit)
    part_config = dataclasses.replace(config, hierarchy=0)
    part_settings = dataclasses.replace(
        settings, mode="search", num_solutions=1, constraints=None, progress_every=math.inf
    )

    def design(lo: int, hi: int, first: str | None, seconds: float) -> str:
        """The search's best design of the part [lo, hi) within ``seconds``, from ``first`` (None: a designer's
        start); with no time or no design, ``first`` or the start's sites."""
        fallback = first if first is not None else start[lo:hi]
        if seconds <= 0:
            return fallback
        part = parse_structure(target.dot_bracket[lo:hi], warn=False)  # the target itself was checked
        sub = _part_run(run, part, lo, dataclasses.replace(part_settings, time_limit=seconds))
        if sub is None:
            return fallback
        search = EnsembleSearch(sub, part_config)
        style, boost = first_style(config.style), config.boost > 1
        seeds = [first if first is not None else designer_start(part, sub.rng, boost, sub.constraints, style)]
        if priors is not None:
            rows = (priors[0][lo:hi], priors[1][lo:hi])
            search.mix_priors(rows)
            if first is None:
                seeds += policy_draws(part, rows, config.policy_designs, sub.rng)
        search.seed(seeds)
        search.run_until_done()
        run.folds += sub.folds
        return sub.best_sequence or fallback

    letters = list(start)
    steps = plan(target, config.hierarchy_leaf)
    _log.info(
        "[%s] %6.1fs  designing %d parts alone, then joining them",
        run.name,
        time.perf_counter() - run.start,
        sum(kind == "part" for kind, _, _ in steps),
    )
    # ``length``: each step at most its length's share of the budget. Those shares add up to as much as 6.7 times
    # the budget on Eterna100-V2's long puzzles (the joins cover their parts' sites again), so once the first
    # steps took theirs the last parts and joins get hundredths of a second (#81: 0.04 s for a 55-nt part).
    # ``left``: the time left in proportion to the step's sites among the sites of the steps left (this one's
    # included): a step that ends early leaves its time to the later ones, and none is starved.
    left_sites = sum(hi - lo for _, lo, hi in steps)
    for kind, lo, hi in steps:
        if config.hierarchy_time == "left":
            seconds = parts_clock.left() * (hi - lo) / left_sites
        else:
            seconds = min(share * (hi - lo) / len(target), parts_clock.left())
        left_sites -= hi - lo
        letters[lo:hi] = design(lo, hi, None if kind == "part" else "".join(letters[lo:hi]), seconds)
    _log.info("[%s] %6.1fs  parts designed and joined", run.name, time.perf_counter() - run.start)
    return "".join(letters)


def policy_draws(
    target: Structure, priors: tuple[np.ndarray, np.ndarray], count: int, rng: np.random.Generator
) -> list[str]:
    """``count`` designs of ``target`` drawn site by site from a structure-only policy's action
    probabilities ``priors`` (per site over ACGU, and over the pairs at a pair's opening site)."""
    if count <= 0:
        return []
    draws = MovePolicy(target, priors[0], priors[1], rate=0.0)
    return [draws.playout(rng) for _ in range(count)]


def _part_run(run: DesignRun, part: Structure, lo: int, settings: DesignSettings) -> DesignRun | None:
    """The design run of the part of ``run.target`` that starts at site ``lo``, under its segment of the
    run's constraints (without the GC window when the segment cannot meet it alone); None when the
    segment admits no design."""
    seed, name = int(run.rng.integers(2**31)), f"{run.name}[{lo + 1}-{lo + len(part)}]"
    # The part's fold estimate from the whole target's, measured on this run: timing a fold of the part's
    # length instead took 0.1-0.16 s at 200-350 nt, past the share of a join given less than that. Folds
    # shrink with about the square of the length or slower, so the estimate errs long.
    fold_s = run.clock.fold_s * (len(part) / len(run.target)) ** 2
    if run.constraints is None:
        return DesignRun(part, settings, seed, name=name, fold_s=fold_s)
    segment = run.constraints.constraints.segment(lo, lo + len(part), len(run.target))
    tries = [segment] if segment.gc_content is None else [segment, dataclasses.replace(segment, gc_content=None)]
    for constraints in tries:
        try:
            return DesignRun(
                part, dataclasses.replace(settings, constraints=constraints), seed, name=name, fold_s=fold_s
            )
        except ConstraintError:
            continue
    return None
