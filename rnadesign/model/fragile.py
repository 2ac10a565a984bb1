"""Fragile motifs and the bases that hold them: a lone pair across a one-base bulge (a branch of a multiloop
or of the exterior loop, :func:`~rnadesign.model.designability.bulged_lone_pairs`) forms only with a few
local assignments, and in a four-way junction without unpaired bases (Rfam-Taneda #10 and #11) it also
loses to partner swaps. :func:`motif_witness` finds the assignment with which the target beats the motif's
local decoys by the most; :func:`motif_locks` turns those witnesses into a sequence constraint, which the
search's ``lock_motifs`` draws under (docs/design.md, session 30). #11 is undesignable for another reason: its
junction's third branch, a two-pair helix to a three-way multiloop, loses on every sequence (session 31,
:func:`~rnadesign.model.designability.helix_units`).
"""

from __future__ import annotations

import itertools
import math

from .alphabet import PAIRS
from .designability import _LOCAL_DANGLES, bulged_lone_pairs, gc_sequence, lone_pair_units
from .folding import DEFAULT_MODEL, FoldingModel, energies
from .structure import Structure

__all__ = ["motif_locks", "motif_witness", "tight_junction"]

Pair = tuple[int, int]


def tight_junction(target: Structure, motif: tuple[int, int, tuple[int, int], int]) -> tuple[Pair, Pair, Pair] | None:
    """(P0, B1, B3) when the motif's lone pair (a, b) is the middle branch of a four-way junction with no
    unpaired base: P0 closes it, B1 = (P0.i + 1, a - 1) and B3 = (b + 1, P0.j - 1) are its other branches
    (Rfam-Taneda #10 and #11). There the lone pair has two more decoys, partner swaps in which every new
    pair stacks on a pair of the target: (P0.i, a) and (b, P0.j), on B1 and B3; (B1.i, B3.j) and (B1.j, B3.i),
    on P0 and on (a, b). None otherwise."""
    a, b = motif[0], motif[1]
    pairs, n = target.pairs, len(target)
    if a < 2 or b > n - 3:
        return None
    b1, b3 = (pairs[a - 1], a - 1), (b + 1, pairs[b + 1])
    if not 0 < b1[0] < b1[1] or not b3[0] < b3[1] < n - 1 or pairs[b1[0] - 1] != b3[1] + 1:
        return None
    return (b1[0] - 1, b3[1] + 1), b1, b3


def motif_witness(
    target: Structure,
    motif: tuple[int, int, tuple[int, int], int],
    model: FoldingModel = DEFAULT_MODEL,
    allowed: tuple[str, ...] | None = None,
    pair_options: dict[Pair, tuple[str, ...]] | None = None,
) -> tuple[float, dict[int, str]]:
    """The bases of a lone pair across a one-base bulge (:func:`bulged_lone_pairs`) and its neighbourhood
    with which the target beats the motif's local decoys by the most, and that margin: the least, over
    assignments, of the largest E(target) - E(decoy) (negative: the target is lower than every decoy).

    The decoys are the target without the lone pair (as in :func:`lone_pair_bound`, whose units these are:
    the pair, its inner pair, the bulge, and the neighbours a - 1 and b + 1 with their partners) and, when
    the motif is the middle branch of a :func:`tight_junction`, its two partner swaps (P0's bases join the
    units). A swap whose new pairs are not all canonical cannot form and is no decoy. The energies are
    evaluated on :func:`gc_sequence` with the units set; the difference to the pair's removal depends on the
    units alone (see :func:`lone_pair_bound`), a swap's also on the pair around P0. ``allowed`` (per site,
    the bases a sequence constraint allows) restricts the units' choices, and ``pair_options`` (per target
    pair, the pairs it may be) a pair's; an empty dict when none is left. Costs about 5,000 evaluations of
    two or three structures and 1,200 of four (0.3-0.6 s at 380 nt)."""
    a, b = motif[0], motif[1]
    dot = target.dot_bracket

    def changed(remove: list[Pair], add: list[Pair]) -> str:
        letters = list(dot)
        for i, j in remove:
            letters[i] = letters[j] = "."
        for i, j in add:
            letters[i], letters[j] = "(", ")"
        return "".join(letters)

    units = lone_pair_units(target, motif)
    decoys: list[tuple[str, list[Pair]]] = [(changed([(a, b)], []), [])]
    junction = tight_junction(target, motif)
    if junction is not None:
        p0, b1, b3 = junction
        decoys.append((changed([b1, b3], [(b1[0], b3[1]), (b1[1], b3[0])]), [(b1[0], b3[1]), (b1[1], b3[0])]))
    structures = [dot] + [d for d, _ in decoys]

    def choices(unit: tuple[int, ...]) -> list[str]:
        options = PAIRS if len(unit) == 2 else tuple("ACGU")
        if pair_options is not None and len(unit) == 2:
            options = pair_options[(unit[0], unit[1])]
        if allowed is None:
            return list(options)
        return [o for o in options if all(base in allowed[site] for site, base in zip(unit, o))]

    def margin(letters: list[str], energy: list[float], formable: list[list[Pair]]) -> tuple[float, float]:
        """The largest gap to a decoy that can form (to 0.01 kcal/mol), then E(target): among equal margins
        the assignment with the more stable target."""
        gaps = [energy[0] - e for e, new in zip(energy[1:], formable) if _canonical(letters, new)]
        return round(max(gaps, default=-math.inf), 2), energy[0]

    base = list(gc_sequence(target))
    ranked: list[tuple[tuple[float, float], list[str]]] = []
    for choice in itertools.product(*(choices(unit) for unit in units)):
        letters = base[:]
        for unit, bases in zip(units, choice):
            for site, letter in zip(unit, bases):
                letters[site] = letter
        found = margin(letters, energies("".join(letters), structures, model), [new for _, new in decoys])
        ranked.append((found, letters))
    if not ranked:
        return math.inf, {}
    ranked.sort(key=lambda r: r[0])
    sites = [site for unit in units for site in unit]
    if junction is None:
        (found, _), letters = ranked[0]
        return found, {site: letters[site] for site in sites}
    # P0's bases (a GC pair above) matter to the swaps only: tried with the best assignments of the others,
    # every decoy evaluated again.
    p0 = junction[0]
    swap = [(p0[0], a), (b, p0[1])]
    decoys.append((changed([p0, (a, b)], swap), swap))
    structures.append(decoys[-1][0])
    best: tuple[tuple[float, float], list[str]] = ((math.inf, math.inf), [])
    for _, letters in ranked[:_JUNCTION_TRIES]:
        for pair in choices(p0):
            trial = letters[:]
            trial[p0[0]], trial[p0[1]] = pair
            found = margin(trial, energies("".join(trial), structures, model), [new for _, new in decoys])
            if found < best[0]:
                best = (found, trial)
    if not best[1]:
        return math.inf, {}
    return best[0][0], {site: best[1][site] for site in sites + list(p0)}


#: A tight junction's closing pair is tried with this many of the best assignments of the lone pair's units.
_JUNCTION_TRIES = 200


def _canonical(letters: list[str], pairs: list[Pair]) -> bool:
    return all(letters[i] + letters[j] in PAIRS for i, j in pairs)


def motif_locks(
    target: Structure,
    model: FoldingModel = DEFAULT_MODEL,
    allowed: tuple[str, ...] | None = None,
    pair_options: dict[Pair, tuple[str, ...]] | None = None,
) -> tuple[str, list[float]] | None:
    """A sequence constraint (IUPAC letters, N where free) that sets every lone pair across a one-base bulge
    and its neighbourhood to its :func:`motif_witness`, and the witnesses' margins; None when the target has
    no such motif, the dangles reach further than the units (1 and 3), or a motif has no witness that beats
    its decoys (against the pair's removal alone that is :func:`~rnadesign.model.designability.lone_pair_bound`'s
    proof; a swap's margin also depends on bases outside the units, so there it proves nothing) or none the
    constraint allows. Motifs whose units overlap keep the first one's bases."""
    motifs = bulged_lone_pairs(target)
    if not motifs or model.dangles not in _LOCAL_DANGLES:
        return None
    letters, margins = ["N"] * len(target), []
    for motif in motifs:
        found, bases = motif_witness(target, motif, model, allowed, pair_options)
        if not bases or found >= 0:
            return None
        margins.append(found)
        for site, base in bases.items():
            if letters[site] == "N":
                letters[site] = base
    return "".join(letters), margins
