"""Local search that refines a design: the "strong local search" half of a hybrid designer.

The policy proposes whole sequences; :func:`adaptive_walk` takes a promising one and mutates
sites where its fold misses the target, or their immediate neighbours, keeping any change that
does not make it worse. The neighbours matter: a short helix often forms only with the right
mismatch or loop nucleotides beside it, and those sites are unpaired in fold and target alike.
Paired sites are mutated as a pair (both partners together, Watson-Crick or GU), so a mutation
never breaks a pair the target wants. Under constraints a mutation draws only bases and pairs the
mask allows (no G-U with ``allow_gu`` off), the GC content and forbidden motifs are repaired after
it, and a candidate that still breaks a constraint is not folded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .clock import Deadline
from .folding import DEFAULT_MODEL, FoldingModel, hamming
from .structure import Structure

if TYPE_CHECKING:
    from .constraints import BoundConstraints

__all__ = ["WalkResult", "adaptive_walk"]

_PAIRS = ("GC", "CG", "AU", "UA", "GU", "UG")
_PAIR_WEIGHTS = np.array([3, 3, 2, 2, 1, 1], dtype=float) / 12
_UNPAIRED = "ACGU"
_UNPAIRED_WEIGHTS = np.array([4, 1, 1, 2], dtype=float) / 8  # loops favour A, as designers know


@dataclass(frozen=True)
class WalkResult:
    sequence: str
    structure: str
    distance: int
    folds: int


def adaptive_walk(
    sequence: str,
    target: Structure,
    rng: np.random.Generator,
    *,
    max_folds: int,
    deadline: Deadline | None = None,
    model: FoldingModel = DEFAULT_MODEL,
    constraints: BoundConstraints | None = None,
) -> WalkResult:
    """Mutate mismatched sites of ``sequence`` while the distance to ``target`` does not grow.

    Args:
        sequence: the starting design.
        target: the target structure.
        rng: source of randomness (pass the design's seeded generator for reproducibility).
        max_folds: budget of ViennaRNA folds.
        deadline: stop before a fold that would not fit before it (None: ``max_folds`` alone).
        model: energy model.
        constraints: bound to ``target``: the start is projected onto the mask and repaired, and every
            candidate stays inside the mask and satisfies the constraints (None: unconstrained).

    Returns:
        The best design reached (distance 0 when solved) and the folds spent.
    """
    dot_bracket = target.dot_bracket
    if constraints is not None:
        sequence = constraints.repair(constraints.project(sequence), rng)
    letters = list(sequence)
    clock = deadline if deadline is not None else Deadline(None)
    structure, _ = clock.fold(sequence, model)
    distance = hamming(structure, dot_bracket)
    folds = 0
    attempts = 0  # under constraints: proposals, folded or refused (fixed sites propose nothing)
    while distance > 0 and folds < max_folds and clock.fits_fold():
        if constraints is not None:
            attempts += 1
            if attempts > 20 * max_folds:
                break
        mismatched = [i for i, (a, b) in enumerate(zip(structure, dot_bracket)) if a != b]
        site = int(mismatched[rng.integers(len(mismatched))])
        if rng.random() < 0.5:  # a neighbour instead
            site = min(max(site + (1 if rng.random() < 0.5 else -1), 0), len(letters) - 1)
        partner = target.pairs[site]
        candidate = letters.copy()
        if partner == -1:
            weights = (
                _UNPAIRED_WEIGHTS
                if constraints is None
                else _masked(_UNPAIRED, _UNPAIRED_WEIGHTS, constraints.allowed[site])
            )
            choice = rng.choice(len(_UNPAIRED), p=weights)
            if _UNPAIRED[choice] == letters[site]:
                continue
            candidate[site] = _UNPAIRED[choice]
        else:
            i, j = min(site, partner), max(site, partner)
            weights = (
                _PAIR_WEIGHTS
                if constraints is None
                else _masked(_PAIRS, _PAIR_WEIGHTS, constraints.pair_options[(i, j)])
            )
            pair = _PAIRS[rng.choice(len(_PAIRS), p=weights)]
            if pair == letters[i] + letters[j]:
                continue
            candidate[i], candidate[j] = pair
        if constraints is not None:
            candidate = list(constraints.repair("".join(candidate), rng))
            if not constraints.satisfied("".join(candidate)):
                continue
        new_structure, _ = clock.fold("".join(candidate), model)
        folds += 1
        new_distance = hamming(new_structure, dot_bracket)
        if new_distance <= distance:
            letters, structure, distance = candidate, new_structure, new_distance
    return WalkResult("".join(letters), structure, distance, folds)


def _masked(choices: tuple[str, ...] | str, weights: np.ndarray, allowed) -> np.ndarray:
    """``weights`` over ``choices`` with the disallowed ones at 0, renormalised."""
    masked = weights * np.array([c in allowed for c in choices])
    return masked / masked.sum()
