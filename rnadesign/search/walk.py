"""Local search that refines a design: the "strong local search" half of a hybrid designer.

The policy proposes whole sequences; :func:`adaptive_walk` takes a promising one and mutates
sites where its fold misses the target, or their immediate neighbours, keeping any change that
does not make it worse. The neighbours matter: a short helix often forms only with the right
mismatch or loop nucleotides beside it, and those sites are unpaired in fold and target alike.
Paired sites are mutated as a pair (both partners together, Watson-Crick or GU), so a mutation
never breaks a pair the target wants. Under constraints a mutation draws only bases and pairs the
mask allows (no G-U with ``allow_gu`` off), the GC content and forbidden motifs are repaired after
it, and a candidate that still breaks a constraint is not folded.

:func:`decoy_repair` finishes a design closer to the target: negative design against the structures
its own folds have shown to compete with the target (the decoys). It screens thousands of changes of
up to three sites or pairs around the mispaired sites by energy evaluation alone (tens of
microseconds each, where a 400 nt fold takes 0.15 s) and folds only the change that favours the
target most over every decoy known; each fold that misses adds its MFE structure to the decoys.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..model.alphabet import PAIRS
from ..model.folding import DEFAULT_MODEL, FoldingModel, energies, hamming
from ..model.structure import Structure, pair_table
from ..run.clock import Deadline

if TYPE_CHECKING:
    from ..model.constraints import BoundConstraints

__all__ = ["WalkResult", "adaptive_walk", "decoy_repair", "miss_region"]

#: The walk's draw over :data:`~rnadesign.model.alphabet.PAIRS` (in that order) and over loop bases.
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
    sequence, clock, structure, distance = _start(sequence, target, rng, deadline, model, constraints)
    letters = list(sequence)
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
                else _masked(PAIRS, _PAIR_WEIGHTS, constraints.pair_options[(i, j)])
            )
            pair = PAIRS[rng.choice(len(PAIRS), p=weights)]
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


def _start(
    sequence: str,
    target: Structure,
    rng: np.random.Generator,
    deadline: Deadline | None,
    model: FoldingModel,
    constraints: BoundConstraints | None,
) -> tuple[str, Deadline, str, int]:
    """A finisher's start: ``sequence`` projected onto the mask and repaired (under constraints), the clock
    (``deadline``, or one without a limit), and the start's fold and distance to ``target``."""
    if constraints is not None:
        sequence = constraints.repair(constraints.project(sequence), rng)
    clock = deadline if deadline is not None else Deadline(None)
    structure, _ = clock.fold(sequence, model)
    return sequence, clock, structure, hamming(structure, target.dot_bracket)


def _masked(choices: tuple[str, ...] | str, weights: np.ndarray, allowed) -> np.ndarray:
    """``weights`` over ``choices`` with the disallowed ones at 0, renormalised."""
    masked = weights * np.array([c in allowed for c in choices])
    return masked / masked.sum()


#: A pool of candidates costs about this many folds' time to screen.
SCREEN_FOLDS = 5


def _screen_seconds(length: int, structures: int) -> float:
    """Seconds to evaluate ``structures`` on one candidate. Measured (ViennaRNA 2.8): a fold compound
    for evaluation costs about 20 microseconds, and each structure evaluated on it about 3, 4 and 14
    microseconds at 36, 100 and 400 nt."""
    return 20e-6 + structures * 0.04e-6 * length


def decoy_repair(
    sequence: str,
    target: Structure,
    rng: np.random.Generator,
    *,
    max_folds: int,
    deadline: Deadline | None = None,
    model: FoldingModel = DEFAULT_MODEL,
    constraints: BoundConstraints | None = None,
    radius: int = 1,
    max_changes: int = 3,
    max_candidates: int = 4000,
    pool_size: int | None = None,
    loops: dict[int, tuple[str, ...]] | None = None,
    interiors: bool = False,
) -> WalkResult:
    """Negative design against the decoys: change up to ``max_changes`` sites or pairs near where the
    fold of ``sequence`` misses ``target`` so that the target beats every competing structure seen.

    The candidates are every change (or, when there are more than the pool holds, a random sample) of
    up to ``max_changes`` units (an unpaired site of the target, or a pair with its partner) among the
    mispaired sites, their target partners, the sites they pair with instead and the sites within
    ``radius`` of them. With ``loops`` (the energy model's bonus hairpin loops by loop length, as
    :func:`~rnadesign.model.folding.bonus_hairpins` gives them) a hairpin of the target that reaches
    into that region is also a unit: its closing pair and loop change at once to one of those loops (the
    tetraloop C UACG G, say), a change of six sites no run of point changes reaches one at a time. With
    ``interiors`` an interior loop or bulge of the target with a site in that region is a unit too: its two
    closing pairs and the unpaired sites beside them (the loop's terminal mismatches, whose energies the
    model tabulates) change at once, up to 36 x 4^4 variants of which the pool holds as many again as it
    holds point changes. A lone pair that closes an interior loop (Eterna100-V2 #80's outer pair) forms
    only when both mismatches and both pairs favour it, a change of up to eight sites.
    Each is screened by E(target) - min E(decoy), energies evaluated on the candidate, not folded; the
    best is folded. A fold that misses the target adds its MFE structure to the decoys (and the
    candidates are scored against it); one at least as close as the current design becomes the current
    design, and the candidates are drawn afresh around it. Screening the pool costs about
    :data:`SCREEN_FOLDS` folds' time (it holds 100 to ``max_candidates``, and with ``loops`` up to as many
    again): about 125 candidates at 36 nt, 1,900 at 100 nt, ``max_candidates`` from about 200 nt.

    Args: as :func:`adaptive_walk`, and ``radius``, ``max_changes``, ``max_candidates`` above;
        ``pool_size``: candidates per pool, fixed (None: sized by the measured fold time, as above, so that
        the same seed may draw other candidates on a faster or busier machine); ``loops`` above.

    Returns:
        The closest design reached (distance 0 when solved) and the folds spent.
    """
    dot_bracket = target.dot_bracket
    sequence, clock, structure, distance = _start(sequence, target, rng, deadline, model, constraints)
    folds = 0
    best = WalkResult(sequence, structure, distance, 0)
    decoys = [structure]
    folded = {sequence}
    interior_loops = target.interior_loops() if interiors else []  # the target's, once; those near the miss per pool
    while distance > 0 and folds < max_folds and clock.fits_fold():
        screen_s = _screen_seconds(len(target), 1 + len(decoys))
        size = (
            pool_size
            if pool_size is not None
            else int(min(max_candidates, max(100, SCREEN_FOLDS * clock.fold_s / screen_s)))
        )
        region = miss_region(structure, target, radius)
        units = _units(region, target, loops)
        inside = _interiors(region, interior_loops)
        pool = [c for c in _changes(sequence, units, rng, size, max_changes, constraints, loops) if c not in folded]
        if inside:
            known = folded.union(pool)
            pool += [
                c for c in dict.fromkeys(_interior_changes(sequence, inside, rng, size, constraints)) if c not in known
            ]
        if not pool or not clock.fits(clock.fold_s + len(pool) * screen_s):
            break
        # Each candidate's gap E(target) - min E(decoy) over the decoys it has been scored against so far:
        # a new decoy can only raise a gap, so the smallest one, once scored against every decoy, is the
        # best (a lazy priority queue; most candidates are never scored against the later decoys).
        heap = []
        for k, candidate in enumerate(pool):
            on_target, *on_decoys = energies(candidate, [dot_bracket, *decoys], model)
            heap.append((on_target - min(on_decoys), k, on_target, len(decoys)))
        heapq.heapify(heap)
        moved = False
        while heap and not moved and folds < max_folds and clock.fits_fold():
            gap, k, on_target, scored = heapq.heappop(heap)
            if scored < len(decoys):
                on_decoys = energies(pool[k], decoys[scored:], model)
                heapq.heappush(heap, (max(gap, on_target - min(on_decoys)), k, on_target, len(decoys)))
                continue
            candidate = pool[k]
            new_structure, _ = clock.fold(candidate, model)
            folds += 1
            folded.add(candidate)
            new_distance = hamming(new_structure, dot_bracket)
            if new_distance == 0:
                return WalkResult(candidate, new_structure, 0, folds)
            if new_structure not in decoys:
                decoys.append(new_structure)
            if new_distance <= distance:
                sequence, structure, distance, moved = candidate, new_structure, new_distance, True
                if distance < best.distance:
                    best = WalkResult(sequence, structure, distance, 0)
        if not moved:
            break
    return WalkResult(best.sequence, best.structure, best.distance, folds)


def miss_region(structure: str, target: Structure, radius: int) -> set[int]:
    """The mispaired sites, their partners in the target and in ``structure``, and the sites within
    ``radius`` of the mispaired ones and of their target partners."""
    length = len(target)
    partners = pair_table(structure)
    region: set[int] = set()
    for site, (a, b) in enumerate(zip(structure, target.dot_bracket)):
        if a == b:
            continue
        for centre in (site, target.pairs[site]):
            if centre >= 0:
                region.update(range(max(0, centre - radius), min(length, centre + radius + 1)))
        if partners[site] >= 0:
            region.add(partners[site])
    return region


def _units(
    region: set[int], target: Structure, loops: dict[int, tuple[str, ...]] | None = None
) -> list[tuple[int, ...]]:
    """The region as units of change: an unpaired site alone, a paired site with its partner, and with
    ``loops`` every hairpin of a length ``loops`` tabulates that has a site in the region (its closing
    pair and loop, ``(i, i + 1, ..., j)``)."""
    units: dict[tuple[int, ...], None] = {}
    for site in sorted(region):
        partner = target.pairs[site]
        units[(site,) if partner < 0 else (min(site, partner), max(site, partner))] = None
    for i, j in target.hairpins() if loops else ():
        if j - i - 1 in loops and not region.isdisjoint(range(i, j + 1)):
            units[tuple(range(i, j + 1))] = None
    return list(units)


def _interiors(region: set[int], loops: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The interior loops and bulges ``(i, j, k, l)`` of ``loops`` (:meth:`Structure.interior_loops`) with a site
    in ``region`` (their closing pairs included)."""
    return [
        (i, j, k, m) for i, j, k, m in loops if not region.isdisjoint(itertools.chain(range(i, k + 1), range(m, j + 1)))
    ]


def _interior_changes(
    sequence: str,
    loops: list[tuple[int, int, int, int]],
    rng: np.random.Generator,
    size: int,
    constraints: BoundConstraints | None,
) -> list[str]:
    """Variants of each interior loop ``(i, j, k, l)``: both closing pairs and the unpaired sites beside them
    (``i + 1``, ``j - 1``, ``k - 1``, ``l + 1``) set at once, every allowed combination, or ``size`` shared
    evenly among the loops drawn at random when there are more; under constraints only those that satisfy
    them."""
    out: list[str] = []
    for i, j, k, m in loops:  # closing pair (i, j), inner pair (k, m)
        sites = sorted({i + 1, j - 1, k - 1, m + 1} - {i, j, k, m})
        units: list[tuple[int, ...]] = [(i, j), (k, m), *((site,) for site in sites)]
        options = [
            list(PAIRS if constraints is None else constraints.pair_options[(i, j)]),
            list(PAIRS if constraints is None else constraints.pair_options[(k, m)]),
            *(list(_UNPAIRED if constraints is None else constraints.allowed[site]) for site in sites),
        ]
        share = max(size // len(loops), 1)
        total = int(np.prod([len(o) for o in options]))
        if total <= share:
            choices = itertools.product(*options)
        else:
            choices = ([o[int(rng.integers(len(o)))] for o in options] for _ in range(share))
        for choice in choices:
            letters = list(sequence)
            for unit, value in zip(units, choice):
                for site, base in zip(unit, value):
                    letters[site] = base
            out.append("".join(letters))
    out = [c for c in out if c != sequence]
    if constraints is not None:
        out = [c for c in out if constraints.satisfied(c)]
    return out


def _changes(
    sequence: str,
    units: list[tuple[int, ...]],
    rng: np.random.Generator,
    size: int,
    max_changes: int,
    constraints: BoundConstraints | None,
    loops: dict[int, tuple[str, ...]] | None = None,
) -> list[str]:
    """Every sequence that changes 1..``max_changes`` of ``units`` (each to another allowed base or pair),
    or ``size`` of them drawn at random when there are more; under constraints only those that satisfy them.

    A hairpin unit (more than two sites) takes each other bonus loop of its length in ``loops``: every such
    loop is a candidate, alone and with up to ``max_changes`` - 1 changes of the other units (as many of
    those as share ``size`` evenly among the loops), so the loops add at most about ``size`` candidates."""
    points = [unit for unit in units if len(unit) <= 2]
    out = _point_changes(list(sequence), points, rng, size, max_changes, constraints)
    variants = []
    for unit in units:
        if len(unit) > 2:
            i, j = unit[0], unit[-1]
            variants += [(i, j, m) for m in (loops or {}).get(j - i - 1, ()) if m != sequence[i : j + 1]]
    share = max(size // len(variants) - 1, 0) if variants else 0  # point changes beside each loop
    for i, j, loop in variants:
        letters = list(sequence[:i] + loop + sequence[j + 1 :])
        outside = [unit for unit in points if not i <= unit[0] <= j]  # the loop's own sites stay the loop
        out.append("".join(letters))
        out += _point_changes(letters, outside, rng, share, max_changes - 1, constraints) if share else []
    if constraints is not None:
        out = [c for c in out if constraints.satisfied(c)]
    return out


def _point_changes(
    letters: list[str],
    units: list[tuple[int, ...]],
    rng: np.random.Generator,
    size: int,
    max_changes: int,
    constraints: BoundConstraints | None,
) -> list[str]:
    """:func:`_changes` of sites and pairs alone (unfiltered by the constraints' GC window and motifs)."""
    options = []
    for unit in units:
        if len(unit) == 1:
            allowed = "ACGU" if constraints is None else constraints.allowed[unit[0]]
            options.append([b for b in _UNPAIRED if b != letters[unit[0]] and b in allowed])
        else:
            allowed = PAIRS if constraints is None else constraints.pair_options[unit]
            options.append([p for p in PAIRS if p != letters[unit[0]] + letters[unit[1]] and p in allowed])
    changeable = [k for k, o in enumerate(options) if o]
    if max_changes <= 0 or not changeable:
        return []

    def apply(choice: dict[int, str]) -> str:
        new = letters.copy()
        for k, letters_k in choice.items():
            for site, base in zip(units[k], letters_k):
                new[site] = base
        return "".join(new)

    # How many changes there are: the elementary symmetric sums of the option counts up to max_changes.
    count = [1] + [0] * max_changes
    for k in changeable:
        for n in range(max_changes, 0, -1):
            count[n] += count[n - 1] * len(options[k])
    if sum(count[1:]) <= size:
        return [
            apply(dict(zip(combo, choice)))
            for n in range(1, max_changes + 1)
            for combo in itertools.combinations(changeable, n)
            for choice in itertools.product(*(options[k] for k in combo))
        ]
    seen: dict[str, None] = {}
    for _ in range(size):
        n = int(rng.integers(1, max_changes + 1))
        combo = rng.choice(changeable, size=min(n, len(changeable)), replace=False)
        seen[apply({int(k): options[k][int(rng.integers(len(options[k])))] for k in combo})] = None
    return list(seen)
