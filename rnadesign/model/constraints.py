"""Design constraints: which bases a design may have where, its GC content, and motifs it must not contain.

:class:`DesignConstraints` is what a user asks for, independent of any target: an IUPAC sequence
constraint (``A C G U T N R Y S W K M B D H V``, case-insensitive, T = U; a trailing ``*`` means N for
every remaining position, so ``GGG*`` fixes a T7 start on targets of any length), a GC-content window,
forbidden motifs (IUPAC too) and whether designed pairs may be G-U wobbles. :meth:`DesignConstraints.bind`
checks it against one target before any design work and gives :class:`BoundConstraints`: the allowed
bases per site and pairs per pair, the checks (:meth:`~BoundConstraints.violations`,
:meth:`~BoundConstraints.satisfied`) and the repairs the designers use (:meth:`~BoundConstraints.project`
onto the mask, :meth:`~BoundConstraints.repair` of the GC content and of motifs, both keeping every target
pair complementary and inside the mask).

Standard library only, like :mod:`rnadesign.model.structure`: the command line validates constraints before it
pays for heavy imports. Every error is a :class:`ConstraintError` whose one-line message names the
1-based position where there is one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from .motifs import check_motifs_leave_a_base, check_single_base_motifs, forced_motif
from .patterns import (
    _EPS,
    IUPAC,
    WATSON_CRICK,
    WOBBLE,
    ConstraintError,
    _apply,
    _bases,
    _class,
    _expand,
    _gc,
    _index,
    _is_number,
    _normalise_pattern,
    _Random,
    _ranges,
    _shared,
    _Unit,
    intersect_patterns,
)
from .structure import Structure

__all__ = ["BoundConstraints", "ConstraintError", "DesignConstraints", "IUPAC", "intersect_patterns"]


@dataclass(frozen=True)
class DesignConstraints:
    """What a design must obey besides folding into its target (see the module docstring).

    The default constrains nothing: :attr:`active` is False and the designers run unconstrained.
    """

    sequence: str | None = None
    """IUPAC letters, one per site (case-insensitive, T = U), or a prefix ending in ``*`` (N for the rest)."""
    gc_content: float | None = None
    """Wanted fraction of G and C, 0..1 (None: any)."""
    gc_tolerance: float = 0.05
    """A design's GC content may differ from ``gc_content`` by at most this much."""
    avoid: tuple[str, ...] = ()
    """Forbidden motifs (IUPAC letters: ``GGGG``, ``AAAAA``, ``GAATTC``); no reported design contains one."""
    allow_gu: bool = True
    """Whether designed pairs may be G-U or U-G wobble pairs (False: ``--no-gu``)."""

    def __post_init__(self) -> None:
        if self.sequence is not None:
            if not isinstance(self.sequence, str) or not self.sequence.strip():
                raise ConstraintError("empty sequence constraint")
            object.__setattr__(self, "sequence", _normalise_pattern(self.sequence, "sequence constraint"))
        if self.gc_content is not None and not (_is_number(self.gc_content) and 0 <= self.gc_content <= 1):
            raise ConstraintError(f"gc_content must be a fraction in [0, 1], got {self.gc_content!r}")
        if not (_is_number(self.gc_tolerance) and 0 <= self.gc_tolerance <= 1):
            raise ConstraintError(f"gc_tolerance must be in [0, 1], got {self.gc_tolerance!r}")
        if isinstance(self.avoid, str):
            raise ConstraintError("avoid must be a sequence of motifs, not one string")
        motifs = []
        for motif in self.avoid:
            if not isinstance(motif, str) or not motif.strip():
                raise ConstraintError("an empty forbidden motif")
            normalised = _normalise_pattern(motif, "forbidden motif")
            if normalised not in motifs:
                motifs.append(normalised)
        object.__setattr__(self, "avoid", tuple(motifs))
        object.__setattr__(self, "allow_gu", bool(self.allow_gu))
        check_motifs_leave_a_base(self.avoid)

    @property
    def active(self) -> bool:
        """Something is constrained (else the designers run exactly as without constraints)."""
        return self.sequence is not None or self.gc_content is not None or bool(self.avoid) or not self.allow_gu

    @staticmethod
    def of_target(common: DesignConstraints | None, line: str | None) -> DesignConstraints | None:
        """One target's constraints: ``common`` (those of every target; None or inactive: none) with the
        target's own sequence constraint ``line`` from its input file added, both holding; None when
        nothing is constrained.

        Raises:
            ConstraintError: ``line`` is malformed or contradicts ``common``'s sequence constraint.
        """
        if common is not None and not common.active:
            common = None
        if line is None:
            return common
        c = common or DesignConstraints()
        return replace(c, sequence=intersect_patterns(c.sequence, line))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["avoid"] = list(self.avoid)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DesignConstraints | None:
        """The inverse of :meth:`to_dict` (None stays None)."""
        if data is None:
            return None
        return cls(**{**data, "avoid": tuple(data.get("avoid", ()))})

    def describe(self) -> str:
        """One line for the log, e.g. ``sequence=GGG* gc=0.50+-0.05 avoid=GGGG no-gu``."""
        parts = []
        if self.sequence is not None:
            parts.append(f"sequence={self.sequence}")
        if self.gc_content is not None:
            parts.append(f"gc={self.gc_content:.2f}+-{self.gc_tolerance:.2f}")
        if self.avoid:
            parts.append(f"avoid={','.join(self.avoid)}")
        if not self.allow_gu:
            parts.append("no-gu")
        return " ".join(parts) or "none"

    def segment(self, lo: int, hi: int, length: int) -> DesignConstraints:
        """These constraints on the sites ``lo`` to ``hi`` (end exclusive) of a ``length``-site target, as
        constraints of that segment alone: its part of the sequence constraint; the GC window, the
        forbidden motifs and the wobble rule unchanged (motifs across the segment's ends are not seen). A
        segment the mask leaves all N has no sequence constraint (so with nothing else it is unconstrained)."""
        sequence = None if self.sequence is None else _expand(self.sequence, length)[lo:hi]
        return replace(self, sequence=None if sequence is None or set(sequence) <= {"N"} else sequence)

    def bind(self, target: Structure) -> BoundConstraints:
        """Check these constraints against ``target`` and return them bound to it.

        Raises:
            ConstraintError: a sequence constraint of the wrong length, a target pair whose allowed bases
                cannot pair (or only as G-U, with ``allow_gu`` off), a GC window no sequence obeying the
                mask reaches, or a forbidden motif the fixed bases already spell; the message names the
                1-based position where there is one.
        """
        return BoundConstraints(self, target)


class BoundConstraints:
    """:class:`DesignConstraints` checked against one target (build with :meth:`DesignConstraints.bind`).

    Attributes:
        constraints: what was asked for.
        target: the target.
        allowed: per site, the bases a design may place there (in ACGU order); at a paired site only
            bases that can pair with an allowed base of the partner.
        pair_options: per target pair ``(i, j)``, ``i < j``, the pairs a design may place (Watson-Crick
            first; G-U only with ``allow_gu``).
        gc_counts: the least and most G and C bases a design may have, or None without a GC window.
    """

    def __init__(self, constraints: DesignConstraints, target: Structure):
        self.constraints = constraints
        self.target = target
        length = len(target)
        pattern = "N" * length if constraints.sequence is None else _expand(constraints.sequence, length)
        if len(pattern) != length:
            fixes = "fixes" if constraints.sequence.endswith("*") else "has"
            raise ConstraintError(
                f"the sequence constraint {fixes} {len(pattern)} letters but the target has {length} positions "
                f"(they differ from position {min(len(pattern), length) + 1})"
                + ("; end it with * to leave the rest free" if len(pattern) < length and fixes == "has" else ""),
                min(len(pattern), length) + 1,
            )
        allowed = [IUPAC[c] for c in pattern]
        check_single_base_motifs(constraints.avoid, constraints.allow_gu, allowed, target)
        kinds = WATSON_CRICK + (WOBBLE if constraints.allow_gu else ())
        self.pair_options: dict[tuple[int, int], tuple[str, ...]] = {}
        for i, j in enumerate(target.pairs):
            if not i < j:
                continue
            options = tuple(p for p in kinds if p[0] in allowed[i] and p[1] in allowed[j])
            if not options:
                wobble = [p for p in WOBBLE if p[0] in allowed[i] and p[1] in allowed[j]]
                kinds = " or ".join(f"{p[0]}-{p[1]}" for p in wobble)
                why = "which cannot pair"
                if wobble:
                    why = f"which pair only as {kinds} wobble pairs, and --no-gu forbids those"
                raise ConstraintError(
                    f"positions {i + 1} and {j + 1} pair in the target, but the sequence constraint allows "
                    f"{_bases(allowed[i])} at {i + 1} and {_bases(allowed[j])} at {j + 1}, {why}",
                    i + 1,
                )
            self.pair_options[(i, j)] = options
            allowed[i] = "".join(b for b in "ACGU" if any(p[0] == b for p in options))
            allowed[j] = "".join(b for b in "ACGU" if any(p[1] == b for p in options))
        self.allowed: tuple[str, ...] = tuple(allowed)
        units = [_Unit((i,), tuple(allowed[i])) for i in range(length) if target.pairs[i] < 0]
        units += [_Unit(pair, options) for pair, options in self.pair_options.items()]
        self._units = sorted(units, key=lambda u: u.sites[0])
        self._unit_of = {site: unit for unit in self._units for site in unit.sites}
        self.gc_counts = self._gc_counts()
        # A lookahead finds overlapping occurrences too (AAAAAA holds AAAAA twice).
        self._motifs = [(m, re.compile(f"(?=({''.join(_class(c) for c in m)}))")) for m in constraints.avoid]
        self._check_forced_motifs()

    # -- validation -------------------------------------------------------------------------------
    def _gc_counts(self) -> tuple[int, int] | None:
        c, length = self.constraints, len(self.target)
        if c.gc_content is None:
            return None
        low = max(0, math.ceil((c.gc_content - c.gc_tolerance) * length - _EPS))
        high = min(length, math.floor((c.gc_content + c.gc_tolerance) * length + _EPS))
        window = f"GC content {c.gc_content:.2f} +- {c.gc_tolerance:.2f}"
        if low > high:
            raise ConstraintError(f"{window}: no {length}-nt sequence has it (widen --gc-tolerance)")
        reachable = 1  # bit k: some sequence obeying the mask has k G or C bases
        for unit in self._units:
            step = 0
            for option in unit.options:
                step |= reachable << _gc(option)
            reachable = step
        counts = [k for k in range(length + 1) if reachable >> k & 1]
        if not any(low <= k <= high for k in counts):
            raise ConstraintError(
                f"{window} needs {low if low == high else f'{low}-{high}'} G or C bases of {length}, but the "
                "sequence constraint allows "
                f"only {_ranges(counts)}"
            )
        return low, high

    def _check_forced_motifs(self) -> None:
        for motif, _ in self._motifs:
            sets = [IUPAC[c] for c in motif]
            for start in range(len(self.target) - len(motif) + 1):
                if all(set(self.allowed[start + k]) <= set(s) for k, s in enumerate(sets)):
                    raise ConstraintError(forced_motif(motif, start, self.constraints.sequence), start + 1)

    # -- checks -----------------------------------------------------------------------------------
    def gc_count(self, sequence: str) -> int:
        return _gc(sequence)

    def gc_excess(self, sequence: str) -> float:
        """How far the GC content lies outside the window, as a fraction of the length (0 inside it)."""
        if self.gc_counts is None:
            return 0.0
        low, high = self.gc_counts
        count = self.gc_count(sequence)
        return max(low - count, count - high, 0) / len(sequence)

    def motif_hits(self, sequence: str) -> list[tuple[str, int]]:
        """Every occurrence of a forbidden motif (overlapping ones too): (motif, 0-based start)."""
        return [(motif, m.start()) for motif, regex in self._motifs for m in regex.finditer(sequence)]

    def violations(self, sequence: str) -> list[str]:
        """What ``sequence`` breaks, one human-readable line each, positions 1-based (empty: nothing)."""
        problems = []
        if len(sequence) != len(self.target):
            return [f"the design has {len(sequence)} bases, the target {len(self.target)}"]
        pattern = self.constraints.sequence
        for i, (base, bases) in enumerate(zip(sequence, self.allowed)):
            if base not in bases:
                code = _expand(pattern, len(sequence))[i] if pattern is not None else "N"
                problems.append(f"position {i + 1} is {base}, the constraint allows {_bases(bases)} ({code})")
        if not self.constraints.allow_gu:
            for i, j in self.pair_options:
                if sequence[i] + sequence[j] in WOBBLE:
                    problems.append(f"positions {i + 1} and {j + 1} pair as {sequence[i]}-{sequence[j]} (--no-gu)")
        if self.gc_counts is not None and self.gc_excess(sequence):
            c = self.constraints
            problems.append(
                f"GC content {self.gc_count(sequence) / len(sequence):.3f} is outside "
                f"{c.gc_content:.2f} +- {c.gc_tolerance:.2f}"
            )
        for motif, start in self.motif_hits(sequence):
            problems.append(f"forbidden motif {motif} at positions {start + 1}-{start + len(motif)}")
        return problems

    def satisfied(self, sequence: str) -> bool:
        """``sequence`` obeys every constraint (:meth:`violations` is empty), checked fast."""
        if len(sequence) != len(self.target) or any(b not in a for b, a in zip(sequence, self.allowed)):
            return False
        if not self.constraints.allow_gu and any(sequence[i] + sequence[j] in WOBBLE for i, j in self.pair_options):
            return False
        return not self.gc_excess(sequence) and not any(regex.search(sequence) for _, regex in self._motifs)

    def reward_factor(self, sequence: str) -> float:
        """What the environment's reward is multiplied by: 1 for a design inside the GC window without a
        forbidden motif, less by 4x the GC excess (0 at 25 points outside) and halved for every motif hit."""
        return max(0.0, 1.0 - 4.0 * self.gc_excess(sequence)) * 0.5 ** len(self.motif_hits(sequence))

    # -- repairs ----------------------------------------------------------------------------------
    def project(self, sequence: str) -> str:
        """The nearest sequence inside the mask: every base and target pair already allowed is kept; another
        is replaced by an allowed one of the same GC class where there is one (G<->C, A<->U), else the first
        allowed (a pair keeps one of its bases where it can)."""
        letters = list(sequence)
        for unit in self._units:
            current = "".join(letters[s] for s in unit.sites)
            if current in unit.options:
                continue
            letters_new = min(unit.options, key=lambda o: (_gc(o) != _gc(current), -_shared(o, current)))
            for site, base in zip(unit.sites, letters_new):
                letters[site] = base
        return "".join(letters)

    def repair(self, sequence: str, rng: _Random, rounds: int = 8) -> str:
        """``sequence`` (inside the mask) with its GC content moved into the window and its forbidden motifs
        removed, every target pair kept complementary and inside the mask. Best effort: a few rounds of the
        two repairs, which can undo each other; check the result with :meth:`satisfied`."""
        letters = list(sequence)
        for _ in range(rounds):
            self._repair_gc(letters, rng)
            self._remove_motifs(letters, rng)
            if self.gc_excess("".join(letters)) == 0:
                break
        return "".join(letters)

    def _repair_gc(self, letters: list[str], rng: _Random) -> None:
        """Swap GC<->AU pairs (and unpaired G/C<->A/U where allowed) at random until the GC count lies in the
        window; a step overshooting it is taken only with a second one that lands inside."""
        if self.gc_counts is None:
            return
        low, high = self.gc_counts
        count = _gc(letters)

        def distance(k: int) -> int:
            return max(low - k, k - high, 0)

        for _ in range(len(letters) + 1):
            if distance(count) == 0:
                return
            moves = self._gc_moves(letters)
            better = [m for m in moves if distance(count + m[2]) < distance(count)]
            if better:
                # Prefer moves that do not overshoot the window; among them, any at random.
                inside = [m for m in better if distance(count + m[2]) == 0] or better
                unit, option, delta = inside[_index(rng, len(inside))]
                _apply(letters, unit, option)
                count += delta
                continue
            pairs = [(a, b) for a in moves for b in moves if a[0] is not b[0] and distance(count + a[2] + b[2]) == 0]
            if not pairs:
                return
            for unit, option, delta in pairs[_index(rng, len(pairs))]:
                _apply(letters, unit, option)
                count += delta

    def _gc_moves(self, letters: list[str]) -> list[tuple[_Unit, str, int]]:
        """Every single-unit change that alters the GC count: (unit, new letters, change in G and C)."""
        moves = []
        for unit in self._units:
            current = "".join(letters[s] for s in unit.sites)
            before = _gc(current)
            for option in unit.options:
                if _gc(option) != before:
                    moves.append((unit, option, _gc(option) - before))
        return moves

    def _remove_motifs(self, letters: list[str], rng: _Random) -> None:
        """Mutate a site inside each forbidden motif occurrence (a paired site with its partner, to another
        allowed pair) until none is left: the change creating the fewest new occurrences and keeping the GC
        count (or its window) is preferred, ties drawn at random."""
        if not self._motifs:
            return
        sequence = "".join(letters)
        for _ in range(2 * len(letters)):
            hits = self.motif_hits(sequence)
            if not hits:
                return
            motif, start = hits[_index(rng, len(hits))]
            best: list[tuple[tuple[int, int], str]] = []
            best_key: tuple[int, int] | None = None
            before = self.gc_excess(sequence)
            for site in range(start, start + len(motif)):
                unit = self._unit_of[site]
                current = "".join(letters[s] for s in unit.sites)
                for option in unit.options:
                    if option == current:
                        continue
                    candidate = letters.copy()
                    for s, base in zip(unit.sites, option):
                        candidate[s] = base
                    text = "".join(candidate)
                    moves_gc = self.gc_excess(text) > before or _gc(option) != _gc(current)
                    key = (len(self.motif_hits(text)), int(moves_gc))
                    if best_key is None or key < best_key:
                        best, best_key = [(key, text)], key
                    elif key == best_key:
                        best.append((key, text))
            if not best or best_key[0] >= len(hits):
                return  # no change inside the occurrence helps
            sequence = best[_index(rng, len(best))][1]
            letters[:] = sequence
        return
