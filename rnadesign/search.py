"""Local search that refines a design: the "strong local search" half of a hybrid designer.

The policy proposes whole sequences; :func:`adaptive_walk` takes a promising one and mutates
sites where its fold misses the target, or their immediate neighbours, keeping any change that
does not make it worse. The neighbours matter: a short helix often forms only with the right
mismatch or loop nucleotides beside it, and those sites are unpaired in fold and target alike.
Paired sites are mutated as a pair (both partners together, Watson-Crick or GU), so a mutation
never breaks a pair the target wants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clock import Deadline
from .folding import DEFAULT_MODEL, FoldingModel, hamming
from .structure import Structure

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
) -> WalkResult:
    """Mutate mismatched sites of ``sequence`` while the distance to ``target`` does not grow.

    Args:
        sequence: the starting design.
        target: the target structure.
        rng: source of randomness (pass the design's seeded generator for reproducibility).
        max_folds: budget of ViennaRNA folds.
        deadline: stop before a fold that would not fit before it (None: ``max_folds`` alone).
        model: energy model.

    Returns:
        The best design reached (distance 0 when solved) and the folds spent.
    """
    dot_bracket = target.dot_bracket
    letters = list(sequence)
    clock = deadline if deadline is not None else Deadline(None)
    structure, _ = clock.fold(sequence, model)
    distance = hamming(structure, dot_bracket)
    folds = 0
    while distance > 0 and folds < max_folds and clock.fits_fold():
        mismatched = [i for i, (a, b) in enumerate(zip(structure, dot_bracket)) if a != b]
        site = int(mismatched[rng.integers(len(mismatched))])
        if rng.random() < 0.5:  # a neighbour instead
            site = min(max(site + (1 if rng.random() < 0.5 else -1), 0), len(letters) - 1)
        partner = target.pairs[site]
        candidate = letters.copy()
        if partner == -1:
            choice = rng.choice(len(_UNPAIRED), p=_UNPAIRED_WEIGHTS)
            if _UNPAIRED[choice] == letters[site]:
                continue
            candidate[site] = _UNPAIRED[choice]
        else:
            i, j = min(site, partner), max(site, partner)
            pair = _PAIRS[rng.choice(len(_PAIRS), p=_PAIR_WEIGHTS)]
            if pair == letters[i] + letters[j]:
                continue
            candidate[i], candidate[j] = pair
        new_structure, _ = clock.fold("".join(candidate), model)
        folds += 1
        new_distance = hamming(new_structure, dot_bracket)
        if new_distance <= distance:
            letters, structure, distance = candidate, new_structure, new_distance
    return WalkResult("".join(letters), structure, distance, folds)
