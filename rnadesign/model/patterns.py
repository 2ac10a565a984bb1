"""The IUPAC alphabet of sequence constraints and what the constraints are built from: pattern parsing
and intersection, the pairs a design may place, the one error type (:class:`ConstraintError`) and the small
helpers :mod:`~rnadesign.model.constraints` shares. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from ..errors import ConfigError

__all__ = ["IUPAC", "WATSON_CRICK", "WOBBLE", "ConstraintError", "intersect_patterns"]

#: IUPAC nucleotide codes -> the bases they allow (T is read as U).
IUPAC: Mapping[str, str] = {
    "A": "A",
    "C": "C",
    "G": "G",
    "U": "U",
    "T": "U",
    "R": "AG",
    "Y": "CU",
    "S": "CG",
    "W": "AU",
    "K": "GU",
    "M": "AC",
    "B": "CGU",
    "D": "AGU",
    "H": "ACU",
    "V": "ACG",
    "N": "ACGU",
}
#: The bases a set of bases is written as: every non-empty subset of ACGU has one IUPAC letter.
_CODE = {frozenset(bases): code for code, bases in IUPAC.items() if code != "T"}
#: Pairs a design may place, the Watson-Crick ones first (the order the designers prefer them in).
WATSON_CRICK = ("GC", "CG", "AU", "UA")
WOBBLE = ("GU", "UG")
_GC = frozenset("GC")
#: GC count a design must reach when asked for ``gc_content``: the window's ends are given as fractions,
#: and 0.45 * 20 is 9.000000000000002 in floating point.
_EPS = 1e-9


class ConstraintError(ConfigError):
    """A constraint is malformed or impossible for its target.

    Attributes:
        position: 1-based position the message names, or None when it names none.
    """

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.position = position


class _Random(Protocol):
    """What the repairs draw from: :class:`random.Random` or a NumPy ``Generator`` alike."""

    def random(self) -> float: ...


def _normalise_pattern(text: str, what: str) -> str:
    """Upper case, T read as U, every letter checked (the error names the 1-based position)."""
    pattern = text.strip().upper()
    for i, char in enumerate(pattern):
        if char == "*" and what == "sequence constraint" and i == len(pattern) - 1:
            continue
        if char not in IUPAC:
            hint = _star_hint(char, what)
            raise ConstraintError(
                f"{what} {text.strip()!r}: invalid letter {char!r} at position {i + 1}{hint} "
                "(allowed: A C G U T N R Y S W K M B D H V)",
                i + 1,
            )
    return pattern.replace("T", "U")


def _star_hint(char: str, what: str) -> str:
    """What the error about an invalid letter adds when the letter is ``*``."""
    if char != "*":
        return ""
    if what == "sequence constraint":
        return " ('*' may only end it)"
    return " ('*' ends a sequence constraint; a forbidden motif is IUPAC letters only)"


def _expand(pattern: str, length: int) -> str:
    """A sequence constraint for ``length`` sites: a ``*`` at its end is N for the rest."""
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        return prefix + "N" * (length - len(prefix)) if len(prefix) <= length else prefix
    return pattern


def intersect_patterns(first: str | None, second: str | None) -> str | None:
    """Both sequence constraints at once: per position the bases both allow (either may end in ``*``).

    Raises:
        ConstraintError: they allow no common base at a position, or they are of different fixed lengths.
    """
    if first is None or second is None:
        return second if first is None else first
    a, b = _normalise_pattern(first, "sequence constraint"), _normalise_pattern(second, "sequence constraint")
    if a.endswith("*") and b.endswith("*"):
        length = max(len(a), len(b)) - 1
        return _meet(a, b, _expand(a, length), _expand(b, length)) + "*"
    length = len(b) if a.endswith("*") else len(a)
    expanded_a, expanded_b = _expand(a, length), _expand(b, length)
    if len(expanded_a) != len(expanded_b):
        raise ConstraintError(f"sequence constraints {a} and {b} have different lengths")
    return _meet(a, b, expanded_a, expanded_b)


def _meet(a: str, b: str, expanded_a: str, expanded_b: str) -> str:
    letters = []
    for i, (x, y) in enumerate(zip(expanded_a, expanded_b)):
        common = frozenset(IUPAC[x]) & frozenset(IUPAC[y])
        if not common:
            raise ConstraintError(f"sequence constraints {a} and {b} allow no common base at position {i + 1}", i + 1)
        letters.append(_CODE[common])
    return "".join(letters)


@dataclass(frozen=True)
class _Unit:
    """What the repairs change at once: an unpaired site, or a target pair (both sites)."""

    sites: tuple[int, ...]
    options: tuple[str, ...]
    """Allowed letters (one site) or pairs (two sites), as strings over ACGU."""


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _class(code: str) -> str:
    bases = IUPAC[code]
    return bases if len(bases) == 1 else f"[{bases}]"


def _gc(bases: str | list[str]) -> int:
    return sum(1 for b in bases if b in _GC)


def _shared(a: str, b: str) -> int:
    return sum(x == y for x, y in zip(a, b))


def _apply(letters: list[str], unit: _Unit, option: str) -> None:
    for site, base in zip(unit.sites, option):
        letters[site] = base


def _index(rng: _Random, n: int) -> int:
    return min(int(rng.random() * n), n - 1)


def _bases(bases: str) -> str:
    return bases if len(bases) == 1 else "/".join(bases)


def _ranges(counts: list[int]) -> str:
    """``[2, 4, 6]`` -> ``"2, 4 or 6"``; a run of consecutive counts as ``lo-hi``."""
    runs: list[list[int]] = []
    for k in counts:
        if runs and k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    parts = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
    if len(parts) > 6:
        parts = [*parts[:3], "...", *parts[-2:]]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
