"""Proofs that no sequence folds into a target under the energy model.

Three kinds, all exact for ViennaRNA's model:

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

3. **A short helix that always loses** (:func:`losing_helices`): a helix of one or two stacked pairs
   whose removal leaves a structure ViennaRNA can form (its two neighbouring loops merged into one) that
   has the lower free energy on every sequence. The difference depends only on the bases of the pairs of
   the loops around the helix, of their neighbours, and of a hairpin the helix closes
   (:func:`helix_units`; between two multiloops, only the helix's bases and the four beside it, since
   the inner branches keep their terms in the merged loop); :func:`helix_bound` takes its least value
   over every assignment of them (a hairpin's own bases at the best choice for its closing pair, which
   only the hairpin's energy sees). A merged loop the fold cannot form (an interior loop of more than 30)
   proves nothing. Two GC pairs around a triloop as a branch of the exterior loop, say, never beat the
   open chain, and Rfam-Taneda #11's two-pair helix between two multiloops loses by at least 0.9 kcal/mol
   (the merged multiloop saves an initiation). Of the 211 generated structures of at most 120 nt that
   expert iteration's designer left unsolved in 10 s (session 27, ``scripts/measure/designability.py``),
   86 are proven so (145 with a limit of 400,000).

A target without a proof is never called undesignable: Eterna100-V2 #68 and #99, which no published
algorithm has solved, are designable (the players' Vienna 2 solutions in ``data/eterna100_puzzles.tsv`` fold
into them), and #100's Vienna 2 player solution exists but is not disclosed.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Callable

from .alphabet import PAIRS
from .folding import DEFAULT_MODEL, FoldingModel, energies
from .structure import Structure, outer_pairs, parse_structure

__all__ = [
    "bulged_lone_pairs",
    "gc_sequence",
    "helices",
    "helix_bound",
    "helix_difference",
    "helix_units",
    "lone_pair_bound",
    "lone_pair_units",
    "losing_helices",
    "undesignable",
    "without_helix",
]

#: Helices of at most this many stacked pairs are tried by :func:`losing_helices` (three found no more
#: proofs than two on the generated structures of docs/design.md, session 27).
HELIX_PAIRS = 2
#: Most assignments :func:`helix_bound` enumerates for one helix (each costs an evaluation of two
#: structures: about 0.1 s a thousand at 100 nt); a helix with more gives no proof.
HELIX_ASSIGNMENTS = 20_000

#: Dangle models under which a branch of the exterior loop or a multiloop sees only its two neighbours
#: (dangles 1 and 3 choose among neighbours and coaxial stacks, which reach further).
_LOCAL_DANGLES = (0, 2)


def undesignable(
    target: Structure, model: FoldingModel = DEFAULT_MODEL, *, loops: bool = True, helix_limit: int = HELIX_ASSIGNMENTS
) -> list[str]:
    """Why no sequence folds into ``target`` under ``model``: one line per proof, empty when none is found
    (which does not prove the target designable); ``loops`` False leaves out the loops ViennaRNA cannot
    form (:func:`~rnadesign.model.structure.parse_structure` warns of those). Costs a few thousand energy
    evaluations for each lone pair across a one-base bulge (about 0.1 s at 100 nt), a few for each helix
    of one or two pairs that can win, and up to ``helix_limit`` for one that cannot (:func:`helix_bound`)."""
    unfoldable = target.unfoldable_loops()
    reasons = list(unfoldable) if loops else []
    if model.dangles in _LOCAL_DANGLES:
        sequence = gc_sequence(target)
        for motif in bulged_lone_pairs(target):
            bound, _ = lone_pair_bound(sequence, target, motif, model)
            if bound > 0:
                reasons.append(
                    f"the lone pair {motif[0] + 1}-{motif[1] + 1} across a one-base bulge loses: without it the "
                    f"structure is at least {bound:.2f} kcal/mol lower on every sequence"
                )
        # A target with a loop ViennaRNA cannot form has no energy to compare (and is proven above).
        for (i, j, u, v), bound in [] if unfoldable else losing_helices(target, model, limit=helix_limit):
            what = f"pair {i + 1}-{j + 1}" if i == u else f"helix {i + 1}-{j + 1} to {u + 1}-{v + 1}"
            reasons.append(
                f"the {what} always loses: without it the structure is at least {bound:.2f} kcal/mol lower on "
                "every sequence"
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
    a, b = motif[0], motif[1]
    without = list(target.dot_bracket)
    without[a] = without[b] = "."
    structures = [target.dot_bracket, "".join(without)]
    units = lone_pair_units(target, motif)
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


def lone_pair_units(target: Structure, motif: tuple[int, int, tuple[int, int], int]) -> list[tuple[int, ...]]:
    """The units E(target) - E(target without the motif's lone pair) depends on: the pair, its inner pair,
    the bulge, and the neighbours a - 1 and b + 1 (a paired neighbour with its partner)."""
    a, b, inner, bulge = motif
    pairs, n = target.pairs, len(target)
    units: list[tuple[int, ...]] = [(a, b), inner, (bulge,)]
    for site in (a - 1, b + 1):
        if 0 <= site < n:
            units.append((site,) if pairs[site] < 0 else (min(site, pairs[site]), max(site, pairs[site])))
    return units


def gc_sequence(target: Structure) -> str:
    """GC pairs, A loops: a sequence on which every target pair is canonical."""
    letters = ["A"] * len(target)
    for i, j in enumerate(target.pairs):
        if i < j:
            letters[i], letters[j] = "G", "C"
    return "".join(letters)


def helices(target: Structure) -> list[tuple[int, int, int, int]]:
    """Every helix of ``target`` (a maximal run of stacked pairs) as (i, j, u, v), 0-based: its outer pair
    (i, j) and its inner pair (u, v), left to right by i."""
    pairs, n = target.pairs, len(target)
    found = []
    for i, j in enumerate(pairs):
        if j <= i or (i > 0 and j < n - 1 and pairs[i - 1] == j + 1):
            continue
        u, v = i, j
        while pairs[u + 1] == v - 1:
            u, v = u + 1, v - 1
        found.append((i, j, u, v))
    return found


def losing_helices(
    target: Structure,
    model: FoldingModel = DEFAULT_MODEL,
    *,
    max_pairs: int = HELIX_PAIRS,
    limit: int = HELIX_ASSIGNMENTS,
) -> list[tuple[tuple[int, int, int, int], float]]:
    """(helix, bound) for every helix of at most ``max_pairs`` pairs whose :func:`helix_bound` is above zero:
    the target without it is at least ``bound`` kcal/mol lower on every sequence. Lone pairs across a
    one-base bulge are left to :func:`lone_pair_bound`. Exact only with dangles 0 or 2 (empty otherwise)."""
    return list(_losing_helices(target, model, max_pairs, limit))


@functools.lru_cache(maxsize=64)
def _losing_helices(
    target: Structure, model: FoldingModel, max_pairs: int, limit: int
) -> tuple[tuple[tuple[int, int, int, int], float], ...]:
    """:func:`losing_helices`, kept for the last targets asked (a helix that loses costs up to ``limit``
    evaluations, and the measuring script asks twice: for the proofs and to check them)."""
    if model.dangles not in _LOCAL_DANGLES:
        return ()
    bulged = {(a, b) for a, b, _, _ in bulged_lone_pairs(target)}
    sequence = gc_sequence(target)
    found = []
    for helix in helices(target):
        i, j, u, _ = helix
        if u - i + 1 > max_pairs or (i, j) in bulged:
            continue
        result = helix_bound(sequence, target, helix, model, limit=limit)
        if result is not None and result[0] > 0:
            found.append((helix, result[0]))
    return tuple(found)


def without_helix(target: Structure, helix: tuple[int, int, int, int]) -> str:
    """``target``'s dot-bracket with every pair of ``helix`` (i, j, u, v) left unpaired."""
    i, j, u, _ = helix
    letters = list(target.dot_bracket)
    for d in range(u - i + 1):
        letters[i + d] = letters[j - d] = "."
    return "".join(letters)


def helix_units(
    target: Structure, helix: tuple[int, int, int, int]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """What E(target) - E(target without ``helix``) depends on under dangles 0 or 2, as (pairs whose two
    bases both matter, bases that matter alone, the sites of a hairpin the helix closes).

    Removing the helix (i, j, u, v) changes its stacks, the loop its outer pair (i, j) is a branch of, the
    loop its inner pair (u, v) closes, and the merged loop that replaces them; a loop's energy sees its
    pairs and, of their neighbours, those on its own side. When the helix is a branch of the exterior loop
    or of a multiloop that stays one, every other branch of that loop keeps its term (a branch's term sees
    its pair and the letters beside it, paired or not), so what changes is the helix's own term (its outer
    pair, i - 1 and j + 1) and the loop it closes: a multiloop's closing term (its inner pair, u + 1 and
    v - 1; the inner branches' terms are the same in the merged loop), an interior loop's energy (both its
    pairs and its bases beside them, all of them in the loops of at most two bases a side that ViennaRNA
    tabulates) together with the inner pair's new term, or a hairpin's energy. When the loop outside is an
    interior loop or bulge, or the merged loop is one or a hairpin, the enclosing pair and that loop's
    other branch count as well, with their bases on the loop's side; a merged hairpin of at most 6 bases
    (possibly a special loop) counts every base, and the helix's hairpin is then enumerated too. A base
    that matters and is paired is listed with its partner when that matters too, else alone: any letter
    can pair with something.
    """
    pairs, n = target.pairs, len(target)
    i, j, u, v = helix
    inner = outer_pairs(pairs, u + 1, v)
    enclosing = _enclosing(pairs, i)
    outer = [] if enclosing is None else outer_pairs(pairs, enclosing[0] + 1, enclosing[1])
    sites = {i + d for d in range(u - i + 1)} | {j - d for d in range(u - i + 1)}
    sites.update((i - 1, j + 1, u + 1, v - 1))  # the helix's term or interior loop outside, its loop inside
    hairpin: list[int] = []
    if not inner:  # the helix closes a hairpin: its bases are chosen, not enumerated
        hairpin = list(range(u + 1, v)) if v - u - 1 <= _SPECIAL_HAIRPIN else [u + 1, v - 1]
    if enclosing is not None and (len(outer) < 2 or len(outer) - 1 + len(inner) < 2):
        # The loop outside is an interior loop or bulge, or the merged loop is one or a hairpin: the
        # enclosing pair and the loop's other branch count, with their bases on the loop's side.
        e0, e1 = enclosing
        sites.update((e0, e1, e0 + 1, e1 - 1))
        for a, b in outer:
            sites.update((a - 1, a, b, b + 1))
        if not inner and len(outer) == 1 and e1 - e0 - 1 <= _SPECIAL_HAIRPIN:
            # the merged loop is a hairpin that may be special: every base of it counts
            sites.update(range(e0 + 1, e1))
            hairpin = []
    if len(inner) == 1:  # an interior loop inside: its inner pair gets a new term or loop in the merged one
        p, q = inner[0]
        sites.update((p - 1, p, q, q + 1))
    sites = {site for site in sites if 0 <= site < n and site not in hairpin}
    units = sorted({(min(s, pairs[s]), max(s, pairs[s])) for s in sites if pairs[s] in sites})
    free = sorted(s for s in sites if pairs[s] not in sites)
    return units, free, hairpin


def helix_bound(
    sequence: str,
    target: Structure,
    helix: tuple[int, int, int, int],
    model: FoldingModel = DEFAULT_MODEL,
    *,
    limit: int = HELIX_ASSIGNMENTS,
) -> tuple[float, str] | None:
    """The least E(target) - E(target without ``helix``) over every assignment of the bases that difference
    depends on (the rest of ``sequence`` kept, every target pair of ``sequence`` canonical), and a sequence
    with it; None when there are more than ``limit`` assignments and none of the first tried wins.

    With dangles 0 or 2 a loop's energy depends only on its pairs, their neighbours and, for a hairpin,
    its own bases, and an exterior loop's or a multiloop's is a sum of one term a branch (its pair and
    neighbours) and constants; removing the helix changes only the loop it is a branch of, its stacks, the
    loop it closes, and the merged loop that replaces them (:func:`helix_units` lists the bases that
    matter, :func:`helix_difference` evaluates an assignment of them). The enumeration stops at the first
    assignment on which the helix wins (bound <= 0).
    """
    found = helix_difference(sequence, target, helix, model)
    if found is None:
        return None  # the fold cannot form the structure without the helix (a merged interior loop over 30)
    choices, difference = found
    count = math.prod(len(c) for c in choices)
    rng = random.Random(len(sequence) * 1000 + helix[0])  # a few tries first: most helices win at once
    tries = [tuple(c[0] for c in choices)] + [tuple(rng.choice(c) for c in choices) for _ in range(16)]
    best = (float("inf"), sequence)
    for choice in itertools.chain(tries, itertools.product(*choices) if count <= limit else ()):
        best = min(best, difference(choice))
        if best[0] <= 0:
            return best
    return best if count <= limit else None


def helix_difference(
    sequence: str, target: Structure, helix: tuple[int, int, int, int], model: FoldingModel = DEFAULT_MODEL
) -> tuple[list[tuple[str, ...]], Callable[[tuple[str, ...]], tuple[float, str]]] | None:
    """The assignments E(target) - E(target without ``helix``) depends on and its evaluation: (the choices of
    each unit, a function from one choice a unit to (the difference, the sequence evaluated)); None when the
    fold cannot form the structure without the helix (a merged interior loop of more than 30).

    The units are :func:`helix_units`': a pair's six canonical pairs, or a base's four letters (a paired
    base enumerated alone gets a partner that pairs with it). A hairpin's own bases enter only its energy,
    so each assignment gives them the best choice for its closing pair (:func:`_best_hairpin`) instead of
    enumerating them. The rest of ``sequence`` is kept (every target pair of it canonical).
    """
    i, _, u, v = helix
    without = without_helix(target, helix)
    if parse_structure(without, warn=False).unfoldable_loops():
        return None
    units, free, hairpin = helix_units(target, helix)
    choices: list[tuple[str, ...]] = [PAIRS] * len(units) + [tuple("ACGU")] * len(free)
    # Inside an enclosing pair the difference is the same on the stretch it closes (its term outside, the
    # same in both structures, cancels), and a shorter sequence evaluates faster.
    enclosing = _enclosing(target.pairs, i)
    lo, hi = (0, len(target)) if enclosing is None else (enclosing[0], enclosing[1] + 1)
    structures = [target.dot_bracket[lo:hi], without[lo:hi]]
    letters = list(sequence)
    partners = [target.pairs[site] for site in free]

    def difference(choice: tuple[str, ...]) -> tuple[float, str]:
        for (a, b), bases in zip(units, choice):
            letters[a], letters[b] = bases
        for site, partner, base in zip(free, partners, choice[len(units) :]):
            letters[site] = base
            if partner >= 0:
                letters[partner] = _PARTNER[base]
        if hairpin:
            loop = _best_hairpin(v - u - 1, letters[u] + letters[v], model)
            for site, base in zip(hairpin, loop):
                letters[site] = base
        candidate = "".join(letters)
        on_target, on_without = energies(candidate[lo:hi], structures, model)
        return on_target - on_without, candidate

    return choices, difference


#: A letter that pairs with each letter (for a base enumerated without its partner).
_PARTNER = {"A": "U", "C": "G", "G": "C", "U": "A"}

#: Hairpins of at most this many unpaired bases can be special loops of the energy model (tri-, tetra-
#: and hexaloops), whose energy depends on every base; a longer one's, only on its closing pair and
#: the two bases beside it.
_SPECIAL_HAIRPIN = 6


@functools.lru_cache(maxsize=512)
def _best_hairpin(size: int, closing: str, model: FoldingModel) -> str:
    """The bases of a hairpin of ``size`` unpaired bases closed by the pair ``closing`` (e.g. "GC") that
    give it the least energy: every base for a possibly special loop, else the two beside the pair (the
    loop's other bases do not matter, and are left out of the result)."""
    structure = "(" + "." * size + ")"
    if size <= _SPECIAL_HAIRPIN:
        loops = ["".join(bases) for bases in itertools.product("ACGU", repeat=size)]
    else:
        loops = [a + "A" * (size - 2) + b for a, b in itertools.product("ACGU", repeat=2)]
    best = min(loops, key=lambda loop: (energies(closing[0] + loop + closing[1], [structure], model)[0], loop))
    return best if size <= _SPECIAL_HAIRPIN else best[0] + best[-1]


def _enclosing(pairs: tuple[int, ...], site: int) -> tuple[int, int] | None:
    """The innermost pair (p, q) with p < ``site`` < q, or None (the site lies in the exterior loop)."""
    p = site - 1
    while p >= 0:
        if pairs[p] > site:
            return p, pairs[p]
        p = pairs[p] - 1 if 0 <= pairs[p] < p else p - 1
    return None
