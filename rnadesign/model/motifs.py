"""Forbidden motifs of one letter (``--avoid S,W``), checked before any design: ones that together
forbid every base, or leave a position no base or a target pair no pair, are refused with a message
that says so; and why a motif that cannot be avoided cannot be."""

from __future__ import annotations

from .patterns import IUPAC, WATSON_CRICK, WOBBLE, ConstraintError, _bases
from .structure import Structure

__all__ = ["check_motifs_leave_a_base", "check_single_base_motifs", "forced_motif"]


def _single_bases(avoid: tuple[str, ...]) -> tuple[list[str], set[str]]:
    """The forbidden motifs of one letter, and the bases they forbid at every site."""
    singles = [m for m in avoid if len(m) == 1]
    return singles, {b for m in singles for b in IUPAC[m]}


def forced_motif(motif: str, start: int, sequence: str | None) -> str:
    """Why a forbidden motif cannot be avoided at 0-based ``start``: the sequence constraint fixes it there,
    or (with no sequence constraint) the motif matches any bases at all."""
    if sequence is not None:
        return (
            f"forbidden motif {motif} is fixed by the sequence constraint at positions {start + 1}-{start + len(motif)}"
        )
    return (
        f"forbidden motif {motif} matches any {len(motif)} bases: no sequence of {len(motif)} or more bases avoids it"
    )


def _motifs(motifs: list[str]) -> str:
    return f"forbidden motif{'s' if len(motifs) > 1 else ''} {','.join(motifs)}"


def check_motifs_leave_a_base(avoid: tuple[str, ...]) -> None:
    """Refuse forbidden motifs of one letter that together forbid every base (``S,W``, ``R,Y``, ``N``)."""
    singles, banned = _single_bases(avoid)
    if banned >= set("ACGU"):
        several = len(singles) > 1
        raise ConstraintError(
            f"{_motifs(singles)} {'forbid' if several else 'forbids'} every base (A, C, G and U) at every "
            f"position: no sequence avoids {'them' if several else 'it'}"
        )


def check_single_base_motifs(avoid: tuple[str, ...], allow_gu: bool, allowed: list[str], target: Structure) -> None:
    """Refuse forbidden motifs of one letter that leave a position no base, or a target pair no pair
    (``allowed``: the bases the sequence constraint allows at each position)."""
    singles, banned = _single_bases(avoid)
    if not banned:
        return
    motifs = _motifs(singles)
    left = ["".join(b for b in bases if b not in banned) for bases in allowed]
    for i, bases in enumerate(left):
        if not bases:
            raise ConstraintError(
                f"the {motifs} {'forbid' if len(singles) > 1 else 'forbids'} {_bases(allowed[i])}, all the "
                f"sequence constraint allows at position {i + 1}",
                i + 1,
            )
    kinds = WATSON_CRICK + (WOBBLE if allow_gu else ())
    for i, j in enumerate(target.pairs):
        if i < j and not any(p[0] in left[i] and p[1] in left[j] for p in kinds):
            raise ConstraintError(
                f"positions {i + 1} and {j + 1} pair in the target, but the {motifs} leave only "
                f"{_bases(left[i])} at {i + 1} and {_bases(left[j])} at {j + 1}, which cannot pair"
                + ("" if allow_gu else " (--no-gu forbids G-U)"),
                i + 1,
            )
