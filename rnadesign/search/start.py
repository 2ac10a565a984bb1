"""The designer's start and the search's mutation priors: GC-rich stems, A-rich loops, and a G-A first
mismatch in hairpin loops (the designers' "boost")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..model.structure import Structure
from .adapt import UNPAIRED

if TYPE_CHECKING:
    from ..model.constraints import BoundConstraints

__all__ = ["PAIR_WEIGHTS", "UNPAIRED_WEIGHTS", "designer_start", "hairpin_mismatches", "unpaired_priors"]

#: Stems GC-rich, as designers make them (NEMO weighs GC/CG 16, AU/UA 9, GU/UG 2).
PAIR_WEIGHTS = np.array([16, 16, 9, 9, 2, 2], dtype=float)
#: Loops mostly A (designers' and SAMFEO's start), G and the rest less.
UNPAIRED_WEIGHTS = np.array([6, 1, 2, 1], dtype=float)


def hairpin_mismatches(target: Structure) -> tuple[set[int], set[int]]:
    """Sites of the first mismatch of every hairpin loop of 4 or more: (5' sites, 3' sites)."""
    loops = [(i, j) for i, j in target.hairpins() if j - i - 1 >= 4]
    return {i + 1 for i, _ in loops}, {j - 1 for _, j in loops}


def unpaired_priors(target: Structure, boost: float) -> np.ndarray:
    """Per site, weights over ACGU for an unpaired site: A-rich loops, and a G-A first mismatch in
    hairpin loops (the designers' "boost", as NEMO's playouts use it), ``boost`` times as likely."""
    priors = np.tile(UNPAIRED_WEIGHTS, (len(target), 1))
    first, last = hairpin_mismatches(target)
    for site in first:
        priors[site, UNPAIRED.index("G")] *= boost
    for site in last:
        priors[site, UNPAIRED.index("A")] *= boost
    return priors


#: The designer's preferences, best first: pairs by kind (a pair of one kind is drawn), loop bases.
_START_PAIRS = (("GC", "CG"), ("AU", "UA"), ("GU", "UG"))
_START_LOOP = "AGUC"


def designer_start(
    target: Structure, rng: np.random.Generator, boost: bool = True, constraints: BoundConstraints | None = None
) -> str:
    """A designer's first guess: every pair GC or CG (drawn), unpaired sites A, and with ``boost`` a
    G-A first mismatch in every hairpin loop of 4 or more. Under ``constraints`` each site takes the first
    of those the mask allows (AU/UA, then GU/UG, for a pair; G, U, C for a loop base), and the start is
    then repaired (GC window, forbidden motifs)."""
    letters = ["A"] * len(target)
    for i, j in enumerate(target.pairs):
        if i < j:
            options: tuple[str, ...] = _START_PAIRS[0]
            if constraints is not None:
                allowed = constraints.pair_options[(i, j)]
                options = next(kept for kind in _START_PAIRS if (kept := tuple(p for p in kind if p in allowed)))
            letters[i], letters[j] = options[0] if len(options) == 1 or rng.random() < 0.5 else options[1]
    if boost:
        for site in hairpin_mismatches(target)[0]:
            letters[site] = "G"
    if constraints is None:
        return "".join(letters)
    for site, base in enumerate(letters):
        if target.pairs[site] == -1 and base not in constraints.allowed[site]:
            letters[site] = next(b for b in _START_LOOP if b in constraints.allowed[site])
    return constraints.repair("".join(letters), rng)
