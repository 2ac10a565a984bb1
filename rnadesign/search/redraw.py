"""The redraw: a large move at one miss of a design, drawn from the search's move policy.

A point mutation changes one site or pair; the finish (:func:`~rnadesign.search.walk.decoy_repair`)
tries changes of up to three around the miss. A design that stays a few sites off for long often needs
more of its neighbourhood to change at once. :func:`redraw_region` picks one mispaired site by its
positional defect and takes every site within ``radius`` of it, of its partner in the target and of its
partner in the design's MFE structure; the search then redraws every unpaired site and pair there from its
move policy (in ``hybrid`` the one adapted on the target, whose prior is the designer's weights and the
network's action probabilities; in ``search`` the designer's weights). It is a restart of one region that
keeps the rest of the design, so it acts on long targets too, where a whole restart seldom comes within a
minute (docs/design.md, session 25).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..model.structure import Structure, pair_table

__all__ = ["redraw_region"]


def redraw_region(
    structure: str, target: Structure, defect: Sequence[float], radius: int, rng: np.random.Generator
) -> set[int]:
    """The sites to redraw around one mispaired site of a design whose MFE structure is ``structure``
    (empty when it has none). The site is drawn in proportion to its positional defect ``defect`` (all
    mispaired sites alike when those are all zero)."""
    partners = pair_table(structure)
    target_partners = target.pairs
    missed = [i for i in range(len(target)) if partners[i] != target_partners[i]]
    if not missed:
        return set()
    weights = np.array([defect[i] for i in missed], dtype=float) if len(defect) else np.zeros(len(missed))
    weights = weights + 1e-9 if weights.sum() > 0 else np.ones(len(missed))
    centre = missed[int(rng.choice(len(missed), p=weights / weights.sum()))]
    region: set[int] = set()
    for site in (centre, target_partners[centre], partners[centre]):
        if site >= 0:
            region.update(range(max(0, site - radius), min(len(target), site + radius + 1)))
    return region
