"""Dot-bracket target structures: parsing, validation and pair tables.

This module has no dependencies beyond the standard library, so every other part of the
project (and any user script) can validate input before paying for heavy imports.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RnaDesignError

__all__ = [
    "InvalidStructureError",
    "InvalidTargetFileError",
    "Structure",
    "Target",
    "parse_structure",
    "read_targets",
    "outer_pairs",
    "pair_table",
]

#: Smallest hairpin loop the ViennaRNA energy model allows (unpaired bases inside a hairpin).
MIN_HAIRPIN = 3
#: Largest interior loop or bulge ViennaRNA's folding considers (unpaired bases on both sides together;
#: ``RNA.MAXLOOP``, fixed when ViennaRNA is compiled). A target with a larger one is no sequence's MFE.
MAX_INTERIOR_LOOP = 30

_ALLOWED = ".()"


class InvalidStructureError(RnaDesignError):
    """A target is not a valid dot-bracket structure.

    Attributes:
        position: 1-based position of the offending character, or None when the problem
            is not tied to one position (an empty target).
    """

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.position = position


class InvalidTargetFileError(RnaDesignError):
    """A file of targets cannot be read at all (missing, empty, not text)."""


class UnfoldableTargetWarning(UserWarning):
    """The target has a loop ViennaRNA's folding cannot form: no sequence folds into it. A design still
    runs (and returns the closest sequence it finds), but it cannot be solved."""


class ShortHairpinWarning(UnfoldableTargetWarning):
    """The target has a hairpin loop too short for the energy model: it cannot be an MFE."""


class LongInteriorLoopWarning(UnfoldableTargetWarning):
    """The target has an interior loop or bulge longer than ViennaRNA folds (:data:`MAX_INTERIOR_LOOP`)."""


def pair_table(dot_bracket: str) -> tuple[int, ...]:
    """Return the 0-based partner of every site (-1 for unpaired sites).

    Raises:
        InvalidStructureError: for characters other than ``.()`` or unbalanced brackets,
            naming the 1-based position.
    """
    if not dot_bracket:
        raise InvalidStructureError("empty structure")
    pairs = [-1] * len(dot_bracket)
    stack: list[int] = []
    for i, char in enumerate(dot_bracket):
        if char == "(":
            stack.append(i)
        elif char == ")":
            if not stack:
                raise InvalidStructureError(f"unbalanced ')' at position {i + 1}", i + 1)
            j = stack.pop()
            pairs[i], pairs[j] = j, i
        elif char != ".":
            raise InvalidStructureError(
                f"invalid character {char!r} at position {i + 1} (allowed: '.', '(', ')')", i + 1
            )
    if stack:
        i = stack[-1]
        raise InvalidStructureError(f"unbalanced '(' at position {i + 1}", i + 1)
    return tuple(pairs)


@dataclass(frozen=True)
class Structure:
    """A validated target secondary structure.

    Build it with :func:`parse_structure` (or ``Structure(text)``, which validates too).
    """

    dot_bracket: str
    """The target in dot-bracket notation, over ``.()`` only."""
    pairs: tuple[int, ...] = field(init=False, repr=False, compare=False)
    """0-based partner of each site, -1 where unpaired."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "pairs", pair_table(self.dot_bracket))

    def __len__(self) -> int:
        return len(self.dot_bracket)

    def __str__(self) -> str:
        return self.dot_bracket

    @property
    def n_pairs(self) -> int:
        """Number of base pairs."""
        return self.dot_bracket.count("(")

    @property
    def n_decisions(self) -> int:
        """Decisions a designer makes: one per unpaired site and one per pair."""
        return len(self) - self.n_pairs

    def decision_sites(self) -> list[int]:
        """The sites where a designer decides, 5' to 3': every unpaired site and every pair's opening site
        (the pair is placed there); :attr:`n_decisions` of them."""
        return [i for i, c in enumerate(self.dot_bracket) if c != ")"]

    def hairpins(self) -> list[tuple[int, int]]:
        """The pairs ``(i, j)`` (0-based, ``i < j``) that close a hairpin loop, 5' to 3'."""
        pairs = self.pairs
        return [(i, j) for i, j in enumerate(pairs) if i < j and all(pairs[k] == -1 for k in range(i + 1, j))]

    def short_hairpins(self) -> list[int]:
        """1-based positions of opening brackets that close a hairpin with < 3 unpaired bases."""
        return [i + 1 for i, j in self.hairpins() if j - i - 1 < MIN_HAIRPIN]

    def interior_loops(self) -> list[tuple[int, int, int, int]]:
        """The interior loops and bulges, as ``(i, j, k, l)`` (0-based): the closing pair ``(i, j)`` and the
        one pair ``(k, l)`` inside it, with at least one unpaired site between them, 5' to 3' by ``i``."""
        found = []
        for i, j in enumerate(self.pairs):
            if j <= i:
                continue
            k = i + 1
            while k < j and self.pairs[k] == -1:
                k += 1
            if k == j:  # a hairpin
                continue
            inner = self.pairs[k]
            # one branch (an interior loop or bulge), not a stack
            if all(self.pairs[m] == -1 for m in range(inner + 1, j)) and (k - i - 1) + (j - inner - 1) > 0:
                found.append((i, j, k, inner))
        return found

    def long_interior_loops(self) -> list[tuple[int, int, int]]:
        """Interior loops and bulges with more than :data:`MAX_INTERIOR_LOOP` unpaired bases, as
        (1-based position of the closing pair's opening bracket, unpaired bases 5', unpaired bases 3')."""
        return [
            (i + 1, k - i - 1, j - inner - 1)
            for i, j, k, inner in self.interior_loops()
            if (k - i - 1) + (j - inner - 1) > MAX_INTERIOR_LOOP
        ]

    def unfoldable_loops(self) -> list[str]:
        """Each loop of the target that ViennaRNA's folding cannot form, described; empty when none."""
        described = [
            f"the hairpin closed at position {p} has fewer than {MIN_HAIRPIN} unpaired bases"
            for p in self.short_hairpins()
        ]
        described += [
            f"the interior loop closed at position {p} has {left} + {right} unpaired bases, more than "
            f"ViennaRNA's {MAX_INTERIOR_LOOP}"
            for p, left, right in self.long_interior_loops()
        ]
        return described


def outer_pairs(pairs: Sequence[int], lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """The outermost pairs ``(i, j)`` of the segment ``lo <= i < j < hi`` of a pair table (``pairs``: each
    site's 0-based partner, -1 unpaired; the segment holds whole pairs), left to right."""
    hi = len(pairs) if hi is None else hi
    out, k = [], lo
    while k < hi:
        if pairs[k] > k:
            out.append((k, pairs[k]))
            k = pairs[k] + 1
        else:
            k += 1
    return out


def parse_structure(text: str, *, warn: bool = True) -> Structure:
    """Parse and validate a dot-bracket string.

    Surrounding whitespace is ignored; anything else that is not ``.()`` is an error.

    Args:
        text: the dot-bracket target.
        warn: emit a :class:`ShortHairpinWarning` when a hairpin loop is shorter than three
            unpaired bases, a :class:`LongInteriorLoopWarning` when an interior loop or bulge has more
            than :data:`MAX_INTERIOR_LOOP` (no sequence can fold into such a target under ViennaRNA).

    Raises:
        InvalidStructureError: empty input, a foreign character or unbalanced brackets; the
            message names the 1-based position.
    """
    if not isinstance(text, str):
        raise InvalidStructureError(f"a structure must be a string, not {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise InvalidStructureError("empty structure")
    offset = len(text) - len(text.lstrip())
    try:
        structure = Structure(stripped)
    except InvalidStructureError as err:
        if err.position is None or offset == 0:
            raise
        # Report the position in the text the user gave, not in the stripped copy.
        position = err.position + offset
        message = str(err).replace(f"position {err.position}", f"position {position}")
        raise InvalidStructureError(message, position) from None
    if warn:
        short = structure.short_hairpins()
        if short:
            warnings.warn(
                f"hairpin loop(s) closed at position(s) {', '.join(map(str, short[:5]))} have fewer "
                f"than {MIN_HAIRPIN} unpaired bases: ViennaRNA cannot fold any sequence into this target",
                ShortHairpinWarning,
                stacklevel=2,
            )
        long = structure.long_interior_loops()
        if long:
            where = ", ".join(f"{p} ({left} + {right} unpaired)" for p, left, right in long[:5])
            warnings.warn(
                f"interior loop(s) closed at position(s) {where} have more than {MAX_INTERIOR_LOOP} unpaired "
                "bases, the most ViennaRNA folds: no sequence can fold into this target",
                LongInteriorLoopWarning,
                stacklevel=2,
            )
    return structure


@dataclass(frozen=True)
class Target:
    """A named, not yet validated target as read from the command line or a file."""

    name: str
    """Identifier: the FASTA-style header, or ``target_<line>`` when there is none."""
    text: str
    """The raw dot-bracket text; validate it with :meth:`parse`."""
    constraint: str | None = None
    """The target's own sequence constraint (IUPAC letters) from the line after its structure, not yet
    validated (see :mod:`rnadesign.model.constraints`); None when it has none."""

    def parse(self, *, warn: bool = True) -> Structure:
        """Validate the text (see :func:`parse_structure`)."""
        return parse_structure(self.text, warn=warn)


class HeaderWithoutStructureWarning(UserWarning):
    """A ``>name`` line of a targets file is not followed by a structure (the name is dropped)."""


#: A libLEARNA-style prefix of a sequence constraint line (``#seq NNNNGGGNNNN``).
_SEQUENCE_PREFIX = "#seq"


def _constraint_line(line: str) -> str | None:
    """The sequence constraint a line after a structure holds: IUPAC letters (checked later, so a bad
    one names its position), with or without libLEARNA's ``#seq`` prefix; None for another line. A line
    with a bracket or a dot is a structure, whatever else it holds."""
    if line[: len(_SEQUENCE_PREFIX)].lower() == _SEQUENCE_PREFIX:
        return line[len(_SEQUENCE_PREFIX) :].strip()
    if line.startswith(("#", ">")) or any(c in line for c in _ALLOWED):
        return None
    return line


def _iter_target_lines(lines: Iterable[str], source: str = "input") -> Iterator[Target]:
    name: str | None = None
    header_line = 0
    pending: Target | None = None  # a structure whose next line may be its sequence constraint
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if pending is not None and line:
            constraint = _constraint_line(line)
            target, pending = pending, None
            if constraint is not None:
                yield Target(target.name, target.text, constraint)
                continue
            yield target
        if pending is None:
            _check_not_a_stray_constraint(line, number, source)
        if not line or line.startswith("#"):
            continue
        if line.startswith(">"):
            if name is not None:
                _warn_header(source, header_line, name)
            name = line[1:].strip() or f"target_{number}"
            header_line = number
            continue
        pending = Target(name=name or f"target_{number}", text=line)
        name = None
    if pending is not None:
        yield pending
    if name is not None:
        _warn_header(source, header_line, name)


#: A sequence constraint line: IUPAC letters, perhaps ending in ``*`` (or ``#seq`` and those).
_CONSTRAINT_LINE = re.compile(r"(#seq\s*)?[ACGUTNRYSWKMBDHV]+\*?", re.IGNORECASE)


def _check_not_a_stray_constraint(line: str, number: int, source: str) -> None:
    """Refuse a sequence constraint line with no structure right before it (it would be read as a structure,
    or skipped as a comment, and a file written constraint-first would pair each with the wrong target)."""
    if _CONSTRAINT_LINE.fullmatch(line):
        raise InvalidTargetFileError(
            f"{source}: line {number}: sequence constraint {line!r} with no structure before it; "
            "a constraint goes on the line right after its structure"
        )


def _warn_header(source: str, line: int, name: str) -> None:
    warnings.warn(
        f"{source}: line {line}: header '>{name}' has no structure after it; skipped",
        HeaderWithoutStructureWarning,
        stacklevel=3,
    )


def read_targets(path: str | Path) -> list[Target]:
    """Read targets from a file: one structure per line, optionally with ``>name`` headers.

    A line of IUPAC letters right after a structure (or ``#seq LETTERS``, as libLEARNA writes it) is that
    target's sequence constraint (:attr:`Target.constraint`). Other blank lines and lines starting with
    ``#`` are skipped. Structures are *not* validated
    here, so one bad line does not stop the others from being designed.

    Raises:
        InvalidTargetFileError: the file is missing, unreadable, not text, or holds no target.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark some editors write is not a target
    except FileNotFoundError:
        raise InvalidTargetFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidTargetFileError(f"{path}: is a directory, expected a file of structures") from None
    except UnicodeDecodeError:
        raise InvalidTargetFileError(f"{path}: not UTF-8 text (save it as UTF-8)") from None
    except OSError as err:
        raise InvalidTargetFileError(f"{path}: {err.strerror}") from None
    return targets_from_text(text, str(path))


def targets_from_text(text: str, source: str = "input") -> list[Target]:
    """The targets of a file's text (see :func:`read_targets`), ``source`` naming it in messages.

    Raises:
        InvalidTargetFileError: the text holds no target.
    """
    targets = list(_iter_target_lines(text.splitlines(), source))
    if not targets:
        raise InvalidTargetFileError(f"{source}: no structures found")
    return targets
