"""The designer's start and the search's mutation priors, in one of two styles: ``designer``, GC-rich stems,
A-rich loops and a G-A first mismatch in hairpin loops (the designers' "boost"); ``pyrimidine``, the
style of Eterna players' solutions of zigzag targets (runs of lone pairs and short helices between
one-base bulges, as in Eterna100-V2 #99): C on the 5' side of a G-C pair, G-U wobbles, U in every loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..model.alphabet import PAIRS
from ..model.structure import Structure
from .adapt import UNPAIRED

if TYPE_CHECKING:
    from ..model.constraints import BoundConstraints

__all__ = [
    "PAIR_WEIGHTS",
    "PYRIMIDINE_PAIR_WEIGHTS",
    "PYRIMIDINE_UNPAIRED_WEIGHTS",
    "UNPAIRED_WEIGHTS",
    "designer_start",
    "first_style",
    "hairpin_mismatches",
    "mutation_priors",
    "pair_weights",
    "unpaired_priors",
]

#: Stems GC-rich, as designers make them (NEMO weighs GC/CG 16, AU/UA 9, GU/UG 2).
PAIR_WEIGHTS = np.array([16, 16, 9, 9, 2, 2], dtype=float)
#: Loops mostly A (designers' and SAMFEO's start), G and the rest less.
UNPAIRED_WEIGHTS = np.array([6, 1, 2, 1], dtype=float)
#: The pyrimidine style's pairs (over :data:`~rnadesign.model.alphabet.PAIRS`: GC, CG, AU, UA, GU, UG) and
#: loop bases (ACGU). A helix of C-G pairs with U bulges between them cannot slide by one base against
#: its partner strand (C meets U or C, U meets U), where the designer's style's shuffled G-C and C-G pairs
#: and A loops often can: on Eterna100-V2 #99's 59-nt zigzag branch (sites 10-68) ``search`` solved it in
#: 6 of 6 seeds within 7 s in this style and in 0 of 6 at 30 s in the designer's (docs/design.md, session 37).
PYRIMIDINE_PAIR_WEIGHTS = np.array([1, 8, 0.5, 0.5, 2, 0.5], dtype=float)
PYRIMIDINE_UNPAIRED_WEIGHTS = np.array([1, 1, 1, 12], dtype=float)


def first_style(style: str) -> str:
    """The style of a run's first lineage under ``SearchConfig.style`` (``alternate`` begins as the designer)."""
    return "pyrimidine" if style == "pyrimidine" else "designer"


def pair_weights(style: str = "designer") -> np.ndarray:
    """A style's weights over the six pairs."""
    return PYRIMIDINE_PAIR_WEIGHTS if style == "pyrimidine" else PAIR_WEIGHTS


def mutation_priors(
    target: Structure,
    boost: float,
    style: str,
    policy: tuple[np.ndarray, np.ndarray] | None = None,
    mix: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The search's mutation priors in ``style``, per site over ACGU and over the six pairs, each row summing
    to 1: :func:`unpaired_priors` and :func:`pair_weights`, and in the designer's style ``policy`` (the
    policy's action probabilities, the same shapes) mixed in with weight ``mix``."""
    unpaired = unpaired_priors(target, boost, style)
    unpaired = unpaired / unpaired.sum(axis=1, keepdims=True)
    weights = pair_weights(style)
    pairs = np.tile(weights / weights.sum(), (len(target), 1))
    if policy is not None and mix > 0 and style == "designer":
        unpaired = (1 - mix) * unpaired + mix * policy[0]
        pairs = (1 - mix) * pairs + mix * policy[1]
    return unpaired, pairs


def hairpin_mismatches(target: Structure) -> tuple[set[int], set[int]]:
    """Sites of the first mismatch of every hairpin loop of 4 or more: (5' sites, 3' sites)."""
    loops = [(i, j) for i, j in target.hairpins() if j - i - 1 >= 4]
    return {i + 1 for i, _ in loops}, {j - 1 for _, j in loops}


def unpaired_priors(target: Structure, boost: float, style: str = "designer") -> np.ndarray:
    """Per site, weights over ACGU for an unpaired site: A-rich loops, and a G-A first mismatch in
    hairpin loops (the designers' "boost", as NEMO's playouts use it), ``boost`` times as likely; in the
    ``pyrimidine`` style U-rich loops, no boost."""
    if style == "pyrimidine":
        return np.tile(PYRIMIDINE_UNPAIRED_WEIGHTS, (len(target), 1))
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
    target: Structure,
    rng: np.random.Generator,
    boost: bool = True,
    constraints: BoundConstraints | None = None,
    style: str = "designer",
) -> str:
    """A designer's first guess: every pair GC or CG (drawn), unpaired sites A, and with ``boost`` a
    G-A first mismatch in every hairpin loop of 4 or more. Under ``constraints`` each site takes the first
    of those the mask allows (AU/UA, then GU/UG, for a pair; G, U, C for a loop base), and the start is
    then repaired (GC window, forbidden motifs). In the ``pyrimidine`` style every pair is drawn by
    :data:`PYRIMIDINE_PAIR_WEIGHTS` (among those the mask allows) and every unpaired site is U (or the first
    of A, G, C the mask allows), without boost."""
    if style == "pyrimidine":
        return _pyrimidine_start(target, rng, constraints)
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
    return _within(letters, target, rng, constraints, _START_LOOP)


def _pyrimidine_start(target: Structure, rng: np.random.Generator, constraints: BoundConstraints | None) -> str:
    letters = ["U"] * len(target)
    for i, j in enumerate(target.pairs):
        if i < j:
            allowed = PAIRS if constraints is None else constraints.pair_options[(i, j)]
            kept = [k for k, p in enumerate(PAIRS) if p in allowed]
            weights = PYRIMIDINE_PAIR_WEIGHTS[kept]
            letters[i], letters[j] = PAIRS[kept[int(rng.choice(len(kept), p=weights / weights.sum()))]]
    return _within(letters, target, rng, constraints, "UAGC")


def _within(
    letters: list[str], target: Structure, rng: np.random.Generator, constraints: BoundConstraints | None, loop: str
) -> str:
    """A start's ``letters`` under ``constraints``: each unpaired site whose base the mask forbids takes the
    first base of ``loop`` it allows, then the start is repaired (GC window, forbidden motifs)."""
    if constraints is None:
        return "".join(letters)
    for site, base in enumerate(letters):
        if target.pairs[site] == -1 and base not in constraints.allowed[site]:
            letters[site] = next(b for b in loop if b in constraints.allowed[site])
    return constraints.repair("".join(letters), rng)
