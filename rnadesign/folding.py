"""ViennaRNA in one place: model settings, MFE folding and the checks every design passes.

ViennaRNA keeps its energy parameter set in process-wide state; :func:`fold` loads the set a
:class:`FoldingModel` names the first time it is needed and whenever another set is asked for,
so one process should stick to one parameter set for speed (every design process does).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import RNA

from .errors import ConfigError, RnaDesignError
from .structure import Structure, parse_structure

__all__ = [
    "ENERGY_PARAMETERS",
    "DesignCheck",
    "EnsembleView",
    "FoldingModel",
    "InvalidSequenceError",
    "check_design",
    "fold",
    "hamming",
    "is_solved",
    "estimate_fold_seconds",
    "is_unique_mfe",
    "positional_defect",
    "vienna_version",
]

NUCLEOTIDES = "ACGU"
_NUCLEOTIDE_SET = frozenset(NUCLEOTIDES)

#: Energy parameter sets shipped with ViennaRNA, by the names the CLI and configs use.
ENERGY_PARAMETERS = {
    "turner2004": RNA.params_load_RNA_Turner2004,
    "turner1999": RNA.params_load_RNA_Turner1999,
    "andronescu2007": RNA.params_load_RNA_Andronescu2007,
    "langdon2018": RNA.params_load_RNA_Langdon2018,
}


class InvalidSequenceError(RnaDesignError):
    """A sequence holds a character other than A, C, G, U."""


@dataclass(frozen=True)
class FoldingModel:
    """The thermodynamic model designs are folded with (ViennaRNA defaults unless changed)."""

    energy_parameters: str = "turner2004"
    """Energy parameter set: one of ``turner2004``, ``turner1999``, ``andronescu2007``, ``langdon2018``."""
    dangles: int = 2
    """Dangling-end treatment (ViennaRNA ``-d``): 0, 1, 2 or 3."""
    temperature: float = 37.0
    """Folding temperature in degrees Celsius."""

    def __post_init__(self) -> None:
        if self.energy_parameters not in ENERGY_PARAMETERS:
            raise ConfigError(
                f"unknown energy parameter set {self.energy_parameters!r}; choose one of {', '.join(ENERGY_PARAMETERS)}"
            )
        if self.dangles not in (0, 1, 2, 3):
            raise ConfigError(f"dangles must be 0, 1, 2 or 3, not {self.dangles!r}")
        if not -273.15 < self.temperature < 200:
            raise ConfigError(f"temperature {self.temperature} C is outside any sensible range")

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULT_MODEL = FoldingModel()

_loaded_parameters = "turner2004"  # what ViennaRNA loads at import


def _use_parameters(name: str) -> None:
    global _loaded_parameters
    if name != _loaded_parameters:
        ENERGY_PARAMETERS[name]()
        _loaded_parameters = name
        _model_details.cache_clear()


@functools.lru_cache(maxsize=8)
def _model_details(model: FoldingModel, unique_ml: bool = False, bpp: bool = True) -> RNA.md:
    md = RNA.md()
    md.dangles = model.dangles
    md.temperature = model.temperature
    if unique_ml:
        md.uniq_ML = 1  # required by suboptimal enumeration
    if not bpp:
        md.compute_bpp = 0  # a partition function without the outside pass: half the time, no pair probabilities
    return md


def _compound(sequence: str, model: FoldingModel, unique_ml: bool = False, bpp: bool = True) -> RNA.fold_compound:
    _use_parameters(model.energy_parameters)
    return RNA.fold_compound(sequence, _model_details(model, unique_ml, bpp))


def validate_sequence(sequence: str) -> str:
    """Return the sequence if it is over ACGU only, else raise :class:`InvalidSequenceError`."""
    if not sequence:
        raise InvalidSequenceError("empty sequence")
    if not _NUCLEOTIDE_SET.issuperset(sequence):
        i, char = next((i, c) for i, c in enumerate(sequence) if c not in _NUCLEOTIDE_SET)
        raise InvalidSequenceError(f"invalid nucleotide {char!r} at position {i + 1} (allowed: A, C, G, U)")
    return sequence


def fold(sequence: str, model: FoldingModel = DEFAULT_MODEL) -> tuple[str, float]:
    """Minimum-free-energy structure and its energy (kcal/mol) of an ACGU sequence."""
    structure, energy = _compound(validate_sequence(sequence), model).mfe()
    return structure, energy


#: Folds longer than this are timed at this length and scaled by a power of the length ratio.
_REFERENCE_LENGTH = 400
#: Folding is O(N^3) in theory; measured here (ViennaRNA 2.8, random sequences) 400 nt took 0.19 s,
#: 800 nt 0.80 s and 1,600 nt 2.8 s, an exponent of about 2. 2.5 errs on the safe side (6 s at 1,600).
_LENGTH_EXPONENT = 2.5


@functools.lru_cache(maxsize=64)
def estimate_fold_seconds(length: int, model: FoldingModel = DEFAULT_MODEL) -> float:
    """Seconds one MFE fold of a ``length``-nt sequence takes on this machine.

    Times a fold of a random sequence of ``min(length, 400)`` nt (at most ~0.2 s here) and scales
    by ``(length / 400) ** 2.5`` beyond that (see ``_LENGTH_EXPONENT``): an estimate that errs long.
    """
    import random
    import time

    reference = max(1, min(length, _REFERENCE_LENGTH))
    rng = random.Random(length)
    best = float("inf")
    for _ in range(1 if reference > 200 else 3):  # short ones: the fastest of a few (a busy machine slows one)
        sequence = "".join(rng.choice(NUCLEOTIDES) for _ in range(reference))
        start = time.perf_counter()
        fold(sequence, model)
        best = min(best, time.perf_counter() - start)
    return best * (length / reference) ** _LENGTH_EXPONENT


def hamming(a: str, b: str) -> int:
    """Number of positions where two equally long dot-brackets differ."""
    if len(a) != len(b):
        raise ValueError(f"cannot compare structures of lengths {len(a)} and {len(b)}")
    return sum(x != y for x, y in zip(a, b))


def _as_dot_bracket(target: str | Structure) -> str:
    return target.dot_bracket if isinstance(target, Structure) else parse_structure(target, warn=False).dot_bracket


def is_solved(sequence: str, target: str | Structure, model: FoldingModel = DEFAULT_MODEL) -> bool:
    """True when the MFE structure of ``sequence`` equals ``target``."""
    target = _as_dot_bracket(target)
    if len(sequence) != len(target):
        return False
    return fold(sequence, model)[0] == target


def is_unique_mfe(sequence: str, target: str | Structure, model: FoldingModel = DEFAULT_MODEL) -> bool:
    """True when ``target`` is the *only* structure at the minimum free energy of ``sequence``.

    Enumerates suboptimal structures within 0 kcal/mol of the MFE (energies are integers in
    dcal/mol inside ViennaRNA, so ties are exact).
    """
    target = _as_dot_bracket(target)
    if len(sequence) != len(target):
        return False
    fc = _compound(validate_sequence(sequence), model, unique_ml=True)
    structure, _ = fc.mfe()
    if structure != target:
        return False
    return [s.structure for s in fc.subopt(0)] == [target]


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


def check_design(
    sequence: str, target: str | Structure, model: FoldingModel = DEFAULT_MODEL, *, unique: bool = False
) -> DesignCheck:
    """Fold ``sequence`` and compare it with ``target`` (see :class:`DesignCheck`)."""
    target = _as_dot_bracket(target)
    if len(sequence) != len(target):
        raise RnaDesignError(f"sequence length {len(sequence)} differs from target length {len(target)}")
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
    sequence: str, target: Structure, model: FoldingModel = DEFAULT_MODEL, *, defects: bool = True
) -> EnsembleView:
    """MFE structure, P(target) and the positional defects of ``sequence`` (an MFE fold and a partition
    function: about three folds' time). Without ``defects`` the partition function skips the pair
    probabilities (about two folds' time) and ``defect`` is empty; :func:`positional_defect` adds it later."""
    fc = _compound(validate_sequence(sequence), model, bpp=defects)
    structure, energy = fc.mfe()
    gap = fc.eval_structure(target.dot_bracket) - energy
    fc.exp_params_rescale(energy)  # keeps long sequences' partition functions in range
    fc.pf()
    probability = fc.pr_structure(target.dot_bracket)
    defect = _defects(fc, target) if defects else ()
    distance = hamming(structure, target.dot_bracket)
    return EnsembleView(sequence, structure, distance, float(probability), defect, float(gap), float(energy))


def positional_defect(
    sequence: str, target: Structure, model: FoldingModel = DEFAULT_MODEL, energy: float | None = None
) -> tuple[float, ...]:
    """The positional defects of :class:`EnsembleView` alone (a partition function with pair
    probabilities, about two folds' time); ``energy``, the sequence's MFE if known, scales it."""
    fc = _compound(validate_sequence(sequence), model)
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


def vienna_version() -> str:
    """Version of the ViennaRNA library in use (record it with every result)."""
    return RNA.__version__
