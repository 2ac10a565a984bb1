"""Random target structures with the features that make design hard.

The meta-training structures (data/meta_train, from Rfam families) are easy for the designer at every
length: it solves nearly all of them in well under a second, so a network trained on what the designer
finds there learns its first guesses back. Design difficulty comes from a few structural features
(Anderson-Lee et al. 2016, "Principles for predicting RNA secondary structure design difficulty"): short
stems, bulges and large or symmetric internal loops, multiloops with many branches, and long unpaired
runs. This module draws structures from a small grammar that produces those features at tunable rates.
Nothing in it is fitted to a benchmark list; the defaults are round numbers.

Every structure drawn is valid for the folding model: hairpins have at least ``MIN_HAIRPIN`` unpaired
bases and interior loops at most ``MAX_INTERIOR_LOOP``. Designability is not checked (that takes a
designer); a generated structure may have no sequence that folds into it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .structure import MAX_INTERIOR_LOOP, MIN_HAIRPIN, parse_structure

__all__ = ["HardStructureGrammar", "random_structure", "random_structures"]


@dataclass(frozen=True)
class HardStructureGrammar:
    """Rates of the grammar. Stem lengths, loop sizes and branch counts are drawn uniformly from the
    inclusive ranges below."""

    short_stem: float = 0.6
    """Chance that a stem has 2-3 pairs (``stem`` range otherwise)."""
    stem: tuple[int, int] = (4, 8)
    hairpin: tuple[int, int] = (3, 9)
    internal_loop: tuple[int, int] = (0, 7)
    """Unpaired bases on each side of an interior loop (both 0 is made a one-base bulge: no loop at all
    would only lengthen the stem)."""
    multiloop: float = 0.3
    """Chance that a helix closes a multiloop rather than an interior loop or hairpin (depth permitting)."""
    branches: tuple[int, int] = (3, 5)
    linker: tuple[int, int] = (0, 5)
    """Unpaired bases between the branches of a multiloop and between exterior helices."""
    hairpin_after: float = 0.35
    """Chance that a helix closes a hairpin rather than going on through an interior loop."""
    max_depth: int = 4
    """Nested multiloops deeper than this end in hairpins."""
    exterior: tuple[int, int] = (1, 3)
    """Helices in the exterior loop."""

    def __post_init__(self) -> None:
        for name in ("stem", "hairpin", "internal_loop", "branches", "linker", "exterior"):
            low, high = getattr(self, name)
            if low < 0 or high < low:
                raise ConfigError(f"{name} must be a range low <= high with low >= 0, got {(low, high)}")
        if self.hairpin[0] < MIN_HAIRPIN:
            raise ConfigError(f"hairpins need at least {MIN_HAIRPIN} unpaired bases, got {self.hairpin}")
        if 2 * self.internal_loop[1] > MAX_INTERIOR_LOOP:
            raise ConfigError(f"interior loops above {MAX_INTERIOR_LOOP} unpaired bases cannot be an MFE")
        if self.stem[0] < 1 or self.branches[0] < 2 or self.exterior[0] < 1:
            raise ConfigError("stems need a pair, multiloops two branches and the exterior a helix")
        for name in ("short_stem", "multiloop", "hairpin_after"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} is a probability, got {getattr(self, name)}")


def _uniform(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _helix(rng: np.random.Generator, grammar: HardStructureGrammar, depth: int) -> str:
    """A helix and everything it encloses: stem, then interior loops and further stems, ending in a
    hairpin or a multiloop."""
    stem = _uniform(rng, (2, 3)) if rng.random() < grammar.short_stem else _uniform(rng, grammar.stem)
    draw = rng.random()
    if draw < grammar.hairpin_after:
        inner = "." * _uniform(rng, grammar.hairpin)
    elif draw < grammar.hairpin_after + grammar.multiloop and depth < grammar.max_depth:
        parts = ["." * _uniform(rng, grammar.linker)]
        for _ in range(_uniform(rng, grammar.branches)):
            parts.append(_helix(rng, grammar, depth + 1))
            parts.append("." * _uniform(rng, grammar.linker))
        inner = "".join(parts)
    else:
        left, right = _uniform(rng, grammar.internal_loop), _uniform(rng, grammar.internal_loop)
        if left == right == 0:
            left = 1  # a zero-size loop would only lengthen the stem: make it a bulge
        inner = "." * left + _helix(rng, grammar, depth) + "." * right
    return "(" * stem + inner + ")" * stem


def random_structure(rng: np.random.Generator, grammar: HardStructureGrammar = HardStructureGrammar()) -> str:
    """One structure drawn from ``grammar``: exterior helices separated by linkers, with unpaired ends.
    (A chain of interior loops goes on with probability ``1 - hairpin_after - multiloop``, or
    ``1 - hairpin_after`` at ``max_depth``, so it ends with probability one and is short on average.)"""
    parts = ["." * _uniform(rng, grammar.linker)]
    for _ in range(_uniform(rng, grammar.exterior)):
        parts.append(_helix(rng, grammar, 0))
        parts.append("." * _uniform(rng, grammar.linker))
    return "".join(parts)


def random_structures(
    count: int,
    *,
    seed: int,
    min_length: int = 40,
    max_length: int = 200,
    grammar: HardStructureGrammar = HardStructureGrammar(),
    max_draws: int = 1_000_000,
) -> list[str]:
    """``count`` distinct structures of ``min_length`` to ``max_length`` bases drawn from ``grammar``
    (rejection sampling on length), reproducible from ``seed``. Each is validated by the parser."""
    if count < 0 or min_length < MIN_HAIRPIN + 2 or max_length < min_length:
        raise ConfigError(f"need count >= 0 and {MIN_HAIRPIN + 2} <= min_length <= max_length")
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    out: list[str] = []
    for _ in range(max_draws):
        if len(out) == count:
            break
        structure = random_structure(rng, grammar)
        if min_length <= len(structure) <= max_length and structure not in seen:
            parse_structure(structure)
            seen.add(structure)
            out.append(structure)
    else:
        raise ConfigError(f"drew {max_draws} structures and kept only {len(out)} of {min_length}-{max_length} nt")
    return out
