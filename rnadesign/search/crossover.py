"""Crossover between the search's lineages: a design's branch taken whole from an earlier lineage's best.

A restart of :class:`~rnadesign.search.ensemble.EnsembleSearch` starts a new lineage; what the lineage
before it had right is kept only in the move policy's weights. Lineages that end a few sites off often
miss in different places. The target's *branches* (every pair closing a branch of the exterior loop or
of a multiloop, with all it encloses) are units a design can take whole from another: a branch whose
MFE structure in one design is the target's is a self-contained piece of a solution (no pair of it
leaves it). :class:`Archive` keeps each ended lineage's best design; :meth:`Archive.graft` gives a design
one branch its own fold misses from an archived design whose fold has it right (a change of many sites
at once, as genetic algorithms' crossover, aligned on the structure); :meth:`Archive.chimera` grafts every
such branch it can into the best archived design.
"""

from __future__ import annotations

import numpy as np

from ..model.structure import Structure, outer_pairs

__all__ = ["Archive", "branches"]


def branches(target: Structure) -> list[tuple[int, int]]:
    """The pairs ``(i, j)`` that close a branch of the exterior loop or of a multiloop, 5' to 3'."""
    pairs = target.pairs
    found = []
    stack = [(0, len(target) - 1, True)]
    while stack:
        lo, hi, branching = stack.pop()
        inner = outer_pairs(pairs, lo, hi + 1)
        if branching or len(inner) > 1:
            found.extend(inner)
        for i, j in inner:
            stack.append((i + 1, j - 1, False))
    return sorted(found)


class Archive:
    """The best designs of the lineages that ended, at most ``size``, closest first.

    Args:
        target: the structure designed.
        size: designs kept.
    """

    def __init__(self, target: Structure, size: int = 16):
        self.target, self.size = target, size
        self.branches = branches(target)
        self.entries: list[tuple[int, float, str, str]] = []  # (distance, objective, sequence, structure)

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, sequence: str, structure: str, distance: int, objective: float) -> None:
        """Keep a lineage's best (MFE ``structure``), ordered by MFE distance, then objective; a solved design
        is the run's answer, not a donor, and is not kept."""
        if distance == 0 or any(e[2] == sequence for e in self.entries):
            return
        self.entries.append((distance, objective, sequence, structure))
        self.entries.sort(key=lambda e: (e[0], e[1]))
        del self.entries[self.size :]

    def _donors(self, structure: str) -> list[tuple[int, int, list[str]]]:
        """Per branch the design misses (its fold there is not the target's), the archived designs whose
        fold has it right."""
        target = self.target.dot_bracket
        found = []
        for i, j in self.branches:
            if structure[i : j + 1] == target[i : j + 1]:
                continue
            donors = [e[2] for e in self.entries if e[3][i : j + 1] == target[i : j + 1]]
            if donors:
                found.append((i, j, donors))
        return found

    def graft(self, sequence: str, structure: str, defect: tuple[float, ...], rng: np.random.Generator) -> str | None:
        """``sequence`` (MFE ``structure``, positional ``defect``) with one branch its fold misses taken from
        an archived design that has it right, the branch drawn by its summed defect; None when there is none."""
        options = self._donors(structure)
        if not options:
            return None
        weights = np.array([sum(defect[i : j + 1]) if defect else j - i + 1.0 for i, j, _ in options]) + 1e-9
        i, j, donors = options[int(rng.choice(len(options), p=weights / weights.sum()))]
        donor = donors[int(rng.integers(len(donors)))]
        return sequence[:i] + donor[i : j + 1] + sequence[j + 1 :]

    def chimera(self, rng: np.random.Generator) -> str | None:
        """The best archived design with every branch its fold misses taken from a random archived design
        that has it right (outermost branches first: a grafted branch brings its inner ones); None when
        there is nothing to graft."""
        if len(self.entries) < 2:
            return None
        _, _, sequence, structure = self.entries[0]
        letters, covered = list(sequence), -1
        grafted = False
        for i, j, donors in self._donors(structure):
            if i <= covered:
                continue
            donor = donors[int(rng.integers(len(donors)))]
            letters[i : j + 1] = donor[i : j + 1]
            covered, grafted = j, True
        return "".join(letters) if grafted else None
