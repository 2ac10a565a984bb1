"""ViennaRNA in one place: model settings, parameter sets, MFE folding, energies and the solved checks
(the measures of a design and of its ensemble are in :mod:`~rnadesign.model.metrics`).

ViennaRNA keeps its energy parameter set in process-wide state; :func:`fold` loads the set a
:class:`FoldingModel` names (a shipped set or a parameter file) the first time it is needed and
whenever another set is asked for, so one process should stick to one parameter set for speed
(every design process does).
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import RNA

from ..errors import ConfigError, RnaDesignError
from .structure import Structure, parse_structure

__all__ = [
    "ENERGY_PARAMETERS",
    "FoldingModel",
    "InvalidSequenceError",
    "bonus_hairpins",
    "energies",
    "fold",
    "hamming",
    "is_solved",
    "estimate_fold_seconds",
    "is_unique_mfe",
    "structures_at_mfe",
    "make_global_default",
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
    """Energy parameter set: one of ``turner2004``, ``turner1999``, ``andronescu2007``, ``langdon2018``,
    or the path of a ViennaRNA parameter file (``.par``, stored resolved to an absolute path)."""
    dangles: int = 2
    """Dangling-end treatment (ViennaRNA ``-d``): 0, 1, 2 or 3."""
    temperature: float = 37.0
    """Folding temperature in degrees Celsius."""
    parameters_sha256: str | None = None
    """A parameter file's SHA-256, filled in when the model is made (None for a shipped set); given, the
    file must still have it, so a model sent to another process folds with exactly the same parameters."""

    def __post_init__(self) -> None:
        if self.energy_parameters in ENERGY_PARAMETERS:
            if self.parameters_sha256 is not None:
                raise ConfigError(f"the shipped set {self.energy_parameters} takes no parameters_sha256")
        else:
            path, digest = _read_parameter_file(self.energy_parameters, self.parameters_sha256)
            object.__setattr__(self, "energy_parameters", path)
            object.__setattr__(self, "parameters_sha256", digest)
        if self.dangles not in (0, 1, 2, 3):
            raise ConfigError(f"dangles must be 0, 1, 2 or 3, not {self.dangles!r}")
        if not -273.15 < self.temperature < 200:
            raise ConfigError(
                f"temperature {self.temperature:g} C is outside the allowed range: above -273.15 and below 200 C"
            )

    def to_dict(self) -> dict:
        """The model as JSON-ready data (``FoldingModel(**d)`` makes it again); a shipped set's has no
        digest, so records and benchmark series keys made before parameter files existed still match."""
        data = asdict(self)
        if data["parameters_sha256"] is None:
            del data["parameters_sha256"]
        return data


DEFAULT_MODEL = FoldingModel()

#: The first line of every ViennaRNA 2.x parameter file (``RNA.params_save``, ``misc/*.par``).
_PARAMETER_FILE_HEADER = "## RNAfold parameter file v2.0"
#: Parameter files read so far: SHA-256 -> text. A set is loaded from the very text that was hashed.
_parameter_texts: dict[str, str] = {}


def _read_parameter_file(name: str, expected_sha256: str | None) -> tuple[str, str]:
    """Resolve, read, hash and check the parameter file ``name``: (absolute path, SHA-256).

    Raises:
        ConfigError: no such file (or set), unreadable, not a ViennaRNA 2.x parameter file, one that
            ViennaRNA rejects, or (with ``expected_sha256``) one that has changed since.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        raise ConfigError(f"energy parameter file {name}: is a directory, not a ViennaRNA parameter file (.par)")
    if not path.is_file():
        if os.sep in name or path.suffix:  # meant as a file
            raise ConfigError(f"energy parameter file {name}: {'not a file' if path.exists() else 'no such file'}")
        raise ConfigError(
            f"unknown energy parameter set {name!r}; choose one of {', '.join(ENERGY_PARAMETERS)} or a file"
        )
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise ConfigError(f"energy parameter file {path}: cannot read it: {reason}") from None
    digest = hashlib.sha256(data).hexdigest()
    resolved = str(path.resolve())
    if expected_sha256 is not None and digest != expected_sha256:
        raise ConfigError(
            f"energy parameter file {resolved} has changed since it was chosen "
            f"(SHA-256 {digest[:12]}..., expected {expected_sha256[:12]}...)"
        )
    if digest not in _parameter_texts:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if first != _PARAMETER_FILE_HEADER:
            raise ConfigError(
                f"energy parameter file {resolved}: not a ViennaRNA parameter file "
                f"(the first line is not {_PARAMETER_FILE_HEADER!r})"
            )
        problem = _probe_parameters(text, resolved)
        if problem is not None:
            raise ConfigError(f"energy parameter file {resolved}: ViennaRNA cannot load it ({problem})")
        _parameter_texts[digest] = text
    return resolved, digest


def _probe_parameters(text: str, name: str) -> str | None:
    """Load ``text`` in a forked child: ViennaRNA ends the whole process on a malformed file (e.g. a
    truncated one) after printing to stderr, so the parent only learns whether it loads. None if it
    does, else ViennaRNA's message."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its messages go to the pipe, never to the user's terminal
        code = 1
        try:
            os.dup2(write_end, 1)
            os.dup2(write_end, 2)
            code = 0 if RNA.params_load_from_string(text, name) == 1 else 1
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, errors="replace") as pipe:
        message = " ".join(pipe.read().split())
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    return message or "it returned an error"


_loaded_parameters: tuple[str, str | None] = ("turner2004", None)  # what ViennaRNA loads at import


def _use_parameters(model: FoldingModel) -> None:
    global _loaded_parameters
    key = (model.energy_parameters, model.parameters_sha256)
    if key == _loaded_parameters:
        return
    if model.parameters_sha256 is None:
        ENERGY_PARAMETERS[model.energy_parameters]()
    else:
        if model.parameters_sha256 not in _parameter_texts:  # a model unpickled in another process
            _read_parameter_file(model.energy_parameters, model.parameters_sha256)
        # A file may set only some parameters and ViennaRNA keeps the rest from the set loaded before:
        # start from the defaults (as RNAfold -P does), so the digest alone decides what is folded with.
        ENERGY_PARAMETERS["turner2004"]()
        if RNA.params_load_from_string(_parameter_texts[model.parameters_sha256], model.energy_parameters) != 1:
            _loaded_parameters = ("", None)  # unknown: the next fold loads its set afresh
            raise RnaDesignError(f"ViennaRNA failed to load the energy parameter file {model.energy_parameters}")
    _loaded_parameters = key
    _model_details.cache_clear()


def make_global_default(model: FoldingModel) -> None:
    """Make ``model`` ViennaRNA's process-wide default (parameters, temperature, dangles) for the
    ViennaRNA functions that take no model, such as RNAinverse; call it in a process of its own."""
    _use_parameters(model)
    RNA.cvar.temperature, RNA.cvar.dangles = model.temperature, model.dangles


@functools.lru_cache(maxsize=8)
def _model_details(model: FoldingModel, unique_ml: bool = False, bpp: bool = True, kt_scale: float = 1.0) -> RNA.md:
    md = RNA.md()
    md.dangles = model.dangles
    md.temperature = model.temperature
    md.betaScale = kt_scale  # the Boltzmann factors' kT times this; the energies (and so the MFE) stay
    if unique_ml:
        md.uniq_ML = 1  # required by suboptimal enumeration
    if not bpp:
        md.compute_bpp = 0  # a partition function without the outside pass: half the time, no pair probabilities
    return md


def _compound(
    sequence: str, model: FoldingModel, unique_ml: bool = False, bpp: bool = True, kt_scale: float = 1.0
) -> RNA.fold_compound:
    _use_parameters(model)
    return RNA.fold_compound(sequence, _model_details(model, unique_ml, bpp, kt_scale))


@functools.lru_cache(maxsize=8)
def bonus_hairpins(model: FoldingModel = DEFAULT_MODEL) -> dict[int, tuple[str, ...]]:
    """The hairpin loops the model's parameters tabulate as more stable than the generic loop of the
    same sequence (Turner 2004: 15 tetraloops such as C UACG G, 4 hexaloops; its two triloops are
    penalties and left out), as closing pair and loop (``"CUACGG"``), by loop length. The bonus is
    measured, not read: each tabulated loop's energy with the table against the energy without it."""
    plain = RNA.md()
    plain.dangles, plain.temperature, plain.special_hp = model.dangles, model.temperature, 0
    tables = _compound("GC", model).params
    found: dict[int, list[str]] = {}
    for motifs in (tables.Triloops, tables.Tetraloops, tables.Hexaloops):
        for motif in motifs.split():
            hairpin = "(" + "." * (len(motif) - 2) + ")"
            tabled = _compound(motif, model).eval_structure(hairpin)
            if tabled < RNA.fold_compound(motif, plain).eval_structure(hairpin) - 1e-6:
                found.setdefault(len(motif) - 2, []).append(motif)
    return {size: tuple(motifs) for size, motifs in found.items()}


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


def energies(sequence: str, structures: list[str], model: FoldingModel = DEFAULT_MODEL) -> list[float]:
    """Free energies (kcal/mol) of ``structures`` on ``sequence``, evaluated, not folded: tens of
    microseconds each at any length (an MFE fold of 400 nt takes about 0.15 s). ``sequence`` is over
    ACGU (not checked: this is the inner loop of :func:`~rnadesign.search.walk.decoy_repair`)."""
    _use_parameters(model)
    fc = RNA.fold_compound(sequence, _model_details(model), RNA.OPTION_EVAL_ONLY)
    return [fc.eval_structure(structure) for structure in structures]


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
    return structure == target and _only_structure_at_mfe(fc, target)


def structures_at_mfe(sequence: str, model: FoldingModel = DEFAULT_MODEL) -> list[str]:
    """Every structure of ``sequence`` whose free energy equals its minimum (ties are exact: ViennaRNA's
    energies are integers in dcal/mol). :func:`fold` returns one of them, chosen by the order of
    ViennaRNA's backtracking; a design whose target is one of several is solved by that order alone."""
    fc = _compound(validate_sequence(sequence), model, unique_ml=True)
    fc.mfe()
    return [s.structure for s in fc.subopt(0)]


def _only_structure_at_mfe(fc: RNA.fold_compound, structure: str) -> bool:
    """``structure`` is the one structure at the MFE (``fc`` built with ``uniq_ML``, its MFE folded)."""
    return [s.structure for s in fc.subopt(0)] == [structure]


def vienna_version() -> str:
    """Version of the ViennaRNA library in use (record it with every result)."""
    return RNA.__version__
