"""Proofs that no sequence folds into a target under the energy model.

Two kinds, both exact for ViennaRNA's model:

1. **Loops ViennaRNA cannot form** (:meth:`Structure.unfoldable_loops`): a hairpin of fewer than 3
   unpaired bases, or an interior loop or bulge of more than ``RNA.MAXLOOP`` (30). The fold never
   considers them, so no sequence has the target as its MFE structure.

2. **A lone pair across a one-base bulge that always loses** (:func:`bulged_lone_pairs`): a pair (a, b)
   with no pair stacked outside it, closing a bulge of one base around the inner pair, as a branch of the
   exterior loop or of a multiloop. The free energy difference between the target and the target without
   (a, b) depends only on the bases of (a, b), of the inner pair, of the bulge and of the neighbours a-1
   and b+1: with dangles 0 or 2 a branch of those loops sees only its neighbours, and a one-base bulge
   costs its initiation plus the stack of its two pairs. :func:`lone_pair_bound` evaluates the
   difference for every assignment of those bases (a paired neighbour with its partner, every pair
   canonical); when the least of them is above zero, the target without (a, b) has the lower free
   energy on every sequence. Rfam-Taneda #20 ends in such a pair: it loses by at least 0.6 kcal/mol.

A target without a proof is never called undesignable: Eterna100-V2 #68 and #99, which no published
algorithm has solved, are designable (the players' Vienna 2 solutions in ``data/eterna100_puzzles.tsv`` fold
into them), and #100's Vienna 2 player solution exists but is not disclosed.
"""

from __future__ import annotations

import itertools

from .alphabet import PAIRS
from .folding import DEFAULT_MODEL, FoldingModel, energies
from .structure import Structure

__all__ = ["bulged_lone_pairs", "gc_sequence", "lone_pair_bound", "undesignable"]

#: Dangle models under which a branch of the exterior loop or a multiloop sees only its two neighbours
#: (dangles 1 and 3 choose among neighbours and coaxial stacks, which reach further).
_LOCAL_DANGLES = (0, 2)


def undesignable(target: Structure, model: FoldingModel = DEFAULT_MODEL, *, loops: bool = True) -> list[str]:
    """Why no sequence folds into ``target`` under ``model``: one line per proof, empty when none is found
    (which does not prove the target designable); ``loops`` False leaves out the loops ViennaRNA cannot
    form (:func:`~rnadesign.model.structure.parse_structure` warns of those). Costs a few thousand energy
    evaluations for each lone pair across a one-base bulge (about 0.1 s at 100 nt), nothing without one."""
    reasons = target.unfoldable_loops() if loops else []
    if model.dangles in _LOCAL_DANGLES:
        sequence = gc_sequence(target)
        for motif in bulged_lone_pairs(target):
            bound, _ = lone_pair_bound(sequence, target, motif, model)
            if bound > 0:
                reasons.append(
                    f"the lone pair {motif[0] + 1}-{motif[1] + 1} across a one-base bulge loses: without it the "
                    f"structure is at least {bound:.2f} kcal/mol lower on every sequence"
                )
    return reasons


def bulged_lone_pairs(target: Structure) -> list[tuple[int, int, tuple[int, int], int]]:
    """(a, b, inner pair, bulge site), 0-based, for every lone pair across a one-base bulge that is a
    branch of the exterior loop or of a multiloop."""
    pairs, n = target.pairs, len(target)
    found = []
    for a, b in enumerate(pairs):
        if b <= a or (a > 0 and b < n - 1 and pairs[a - 1] == b + 1):
            continue
        if pairs[a + 1] == b - 2:  # the bulge base b - 1 cannot pair: it lies between the two pairs
            inner, bulge = (a + 1, b - 2), b - 1
        elif pairs[a + 2] == b - 1:
            inner, bulge = (a + 2, b - 1), a + 1
        else:
            continue
        if not _in_interior_loop(pairs, a, b):
            found.append((a, b, inner, bulge))
    return found


def _in_interior_loop(pairs: tuple[int, ...], a: int, b: int) -> bool:
    """Whether (a, b) is the only branch of the pair that encloses it (an interior loop or bulge)."""
    i = a - 1
    while i >= 0 and pairs[i] == -1:
        i -= 1
    if i < 0 or pairs[i] < i:  # the exterior loop, or another branch ends first: exterior loop or multiloop
        return False
    j = b + 1
    while j < pairs[i] and pairs[j] == -1:
        j += 1
    return j == pairs[i]


def lone_pair_bound(
    sequence: str, target: Structure, motif: tuple[int, int, tuple[int, int], int], model: FoldingModel = DEFAULT_MODEL
) -> tuple[float, str]:
    """The least E(target) - E(target without the lone pair) over every assignment of the motif's bases
    (the rest of ``sequence`` kept, every target pair of ``sequence`` canonical), and a sequence with it."""
    a, b, inner, bulge = motif
    pairs, n = target.pairs, len(target)
    without = list(target.dot_bracket)
    without[a] = without[b] = "."
    structures = [target.dot_bracket, "".join(without)]
    units: list[tuple[int, ...]] = [(a, b), inner, (bulge,)]
    for site in (a - 1, b + 1):
        if 0 <= site < n:
            units.append((site,) if pairs[site] < 0 else (min(site, pairs[site]), max(site, pairs[site])))
    best = (float("inf"), sequence)
    for choice in itertools.product(*(PAIRS if len(unit) == 2 else "ACGU" for unit in units)):
        letters = list(sequence)
        for unit, bases in zip(units, choice):
            for site, base in zip(unit, bases):
                letters[site] = base
        candidate = "".join(letters)
        on_target, on_without = energies(candidate, structures, model)
        best = min(best, (on_target - on_without, candidate))
    return best


def gc_sequence(target: Structure) -> str:
    """GC pairs, A loops: a sequence on which every target pair is canonical."""
    letters = ["A"] * len(target)
    for i, j in enumerate(target.pairs):
        if i < j:
            letters[i], letters[j] = "G", "C"
    return "".join(letters)
