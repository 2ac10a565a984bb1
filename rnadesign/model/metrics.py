"""What a design is worth: the check every design passes (:func:`check_design`), its view through the
Boltzmann ensemble (:func:`ensemble_view`, :func:`positional_defect`) and the metrics reported for it
(:func:`design_metrics`). ViennaRNA's model settings and folds come from :mod:`~rnadesign.model.folding`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import RNA

from ..errors import RnaDesignError
from .folding import (
    DEFAULT_MODEL,
    FoldingModel,
    _as_dot_bracket,
    _compound,
    _only_structure_at_mfe,
    fold,
    hamming,
    is_unique_mfe,
    validate_sequence,
)
from .structure import Structure, parse_structure

__all__ = [
    "DesignCheck",
    "DesignMetrics",
    "EnsembleView",
    "check_design",
    "design_metrics",
    "ensemble_view",
    "gc_content",
    "positional_defect",
]


@dataclass(frozen=True)
class DesignCheck:
    """An independent verdict on a design: folded again from scratch."""

    sequence: str
    structure: str
    """MFE structure of the sequence."""
    energy: float
    """Its free energy in kcal/mol."""
    distance: int
    """Hamming distance between ``structure`` and the target."""
    solved: bool
    """The MFE structure equals the target."""
    unique: bool | None
    """The target is the unique MFE structure (None when not asked for)."""


def _check_length(sequence: str, target: str | Structure) -> None:
    if len(sequence) != len(target):
        raise RnaDesignError(f"sequence length {len(sequence)} differs from target length {len(target)}")


def check_design(
    sequence: str, target: str | Structure, model: FoldingModel = DEFAULT_MODEL, *, unique: bool = False
) -> DesignCheck:
    """Fold ``sequence`` and compare it with ``target`` (see :class:`DesignCheck`)."""
    target = _as_dot_bracket(target)
    _check_length(sequence, target)
    structure, energy = fold(sequence, model)
    distance = hamming(structure, target)
    is_unique = None
    if unique:
        is_unique = distance == 0 and is_unique_mfe(sequence, target, model)
    return DesignCheck(sequence, structure, energy, distance, distance == 0, is_unique)


@dataclass(frozen=True)
class EnsembleView:
    """A design seen through its MFE structure and its whole ensemble (the partition function)."""

    sequence: str
    structure: str
    """MFE structure."""
    distance: int
    """Hamming distance between the MFE structure and the target."""
    probability: float
    """P(target | sequence): the target's Boltzmann probability in the ensemble."""
    defect: tuple[float, ...]
    """Positional defect: per site, the probability of not being in its target state (paired with its
    target partner, or unpaired); the normalised ensemble defect is their mean."""
    energy_gap: float = 0.0
    """Free energy of the target minus the MFE (kcal/mol): 0 exactly when the target is an MFE structure."""
    energy: float = 0.0
    """The MFE (kcal/mol)."""

    @property
    def ensemble_defect(self) -> float:
        return sum(self.defect) / len(self.defect)


def ensemble_view(
    sequence: str,
    target: Structure,
    model: FoldingModel = DEFAULT_MODEL,
    *,
    defects: bool = True,
    kt_scale: float = 1.0,
) -> EnsembleView:
    """MFE structure, P(target) and the positional defects of ``sequence`` (an MFE fold and a partition
    function: about three folds' time). Without ``defects`` the partition function skips the pair
    probabilities (about two folds' time) and ``defect`` is empty; :func:`positional_defect` adds it later.
    ``kt_scale`` below 1 weighs the ensemble colder (Boltzmann factors exp(-E / (kt_scale kT)), the energies
    unchanged): P(target) then tends to the energy gap's ranking, the MFE and the gap stay as they are."""
    fc = _compound(validate_sequence(sequence), model, bpp=defects, kt_scale=kt_scale)
    return _view(fc, sequence, target, defects)


def _view(fc: RNA.fold_compound, sequence: str, target: Structure, defects: bool) -> EnsembleView:
    structure, energy = fc.mfe()
    gap = fc.eval_structure(target.dot_bracket) - energy
    fc.exp_params_rescale(energy)  # keeps long sequences' partition functions in range
    fc.pf()
    probability = fc.pr_structure(target.dot_bracket)
    defect = _defects(fc, target) if defects else ()
    distance = hamming(structure, target.dot_bracket)
    return EnsembleView(sequence, structure, distance, float(probability), defect, float(gap), float(energy))


def gc_content(sequence: str) -> float:
    """Share of G and C in ``sequence`` (0 for an empty one)."""
    return (sequence.count("G") + sequence.count("C")) / len(sequence) if sequence else 0.0


@dataclass(frozen=True)
class DesignMetrics(DesignCheck):
    """What a user ranks designs by: the :class:`DesignCheck` plus the ensemble's view of the target.

    The ensemble fields are None when the time limit left no time for a partition function."""

    gc_content: float = 0.0
    """Share of G and C."""
    probability: float | None = None
    """P(target | sequence), the target's Boltzmann probability in the ensemble."""
    ensemble_defect: float | None = None
    """Normalised ensemble defect: the mean over sites of 1 - P(the site in its target state)."""
    defect: tuple[float, ...] = ()
    """The positional defects themselves (empty when ``ensemble_defect`` is None)."""


def design_metrics(
    sequence: str, target: str | Structure, model: FoldingModel = DEFAULT_MODEL, *, ensemble: bool = True
) -> DesignMetrics:
    """Fold ``sequence`` again and measure it against ``target`` (see :class:`DesignMetrics`).

    With ``ensemble`` one fold compound gives the MFE, the unique-MFE check and the partition function
    with pair probabilities (about five folds' time); without, it is one MFE fold (:func:`check_design`).
    """
    target = target if isinstance(target, Structure) else parse_structure(target, warn=False)
    if not ensemble:
        check = asdict(check_design(sequence, target, model))
        check["unique"] = None if check["solved"] else False  # unknown only for a solution
        return DesignMetrics(**check, gc_content=gc_content(sequence))
    _check_length(sequence, target)
    fc = _compound(validate_sequence(sequence), model, unique_ml=True)
    view = _view(fc, sequence, target, defects=True)
    unique = view.distance == 0 and _only_structure_at_mfe(fc, target.dot_bracket)
    return DesignMetrics(
        sequence=sequence,
        structure=view.structure,
        energy=view.energy,
        distance=view.distance,
        solved=view.distance == 0,
        unique=unique,
        gc_content=gc_content(sequence),
        probability=view.probability,
        ensemble_defect=view.ensemble_defect,
        defect=view.defect,
    )


def positional_defect(
    sequence: str,
    target: Structure,
    model: FoldingModel = DEFAULT_MODEL,
    energy: float | None = None,
    kt_scale: float = 1.0,
) -> tuple[float, ...]:
    """The positional defects of :class:`EnsembleView` alone (a partition function with pair
    probabilities, about two folds' time); ``energy``, the sequence's MFE if known, scales it; ``kt_scale``
    as in :func:`ensemble_view`."""
    fc = _compound(validate_sequence(sequence), model, kt_scale=kt_scale)
    fc.exp_params_rescale(fc.mfe()[1] if energy is None else energy)
    fc.pf()
    return _defects(fc, target)


def _defects(fc: RNA.fold_compound, target: Structure) -> tuple[float, ...]:
    """Per site, 1 - P(the site in its target state), from a partition function with pair probabilities."""
    import numpy as np

    bpp = np.array(fc.bpp())[1:, 1:]
    bpp = bpp + bpp.T
    partners = np.array(target.pairs)
    paired = partners >= 0
    in_target_state = np.where(paired, bpp[np.arange(len(partners)), np.maximum(partners, 0)], 1.0 - bpp.sum(axis=1))
    return tuple(float(d) for d in np.clip(1.0 - in_target_state, 0.0, 1.0))
