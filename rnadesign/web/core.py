"""Everything the web page takes from the rest of rnadesign, in one place.

Every other module of :mod:`rnadesign.web` imports rnadesign through this one, so a move of those
modules changes this file alone. Nothing here is re-implemented: validation is the command line's
(:func:`rnadesign.cli.commands.design_constraints`, :func:`rnadesign.cli.commands.bind_target`, the option
types of :mod:`rnadesign.cli.console`), output is :mod:`rnadesign.cli.output`'s.
"""

from __future__ import annotations

from ..cli.commands import bind_target, design_constraints, target_error
from ..cli.console import EXIT_OK, EXIT_USAGE, SEED_LIMIT, non_negative_number, positive_int, positive_number
from ..cli.console import seed as seed_number
from ..cli.parser import PROG, build_parser, fraction, motif_list
from ..errors import ConfigError, RnaDesignError
from ..model.constraints import DesignConstraints
from ..model.structure import Target, targets_from_text

__all__ = [
    "EXIT_OK",
    "EXIT_USAGE",
    "PROG",
    "SEED_LIMIT",
    "ConfigError",
    "DesignConstraints",
    "RnaDesignError",
    "Target",
    "bind_target",
    "build_parser",
    "design_constraints",
    "design_svgs",
    "energy_parameter_sets",
    "folding_model",
    "fraction",
    "modes",
    "motif_list",
    "non_negative_number",
    "positive_int",
    "positive_number",
    "render",
    "render_header",
    "run_design",
    "seed_number",
    "target_error",
    "targets_from_text",
    "undesignable",
]


def energy_parameter_sets() -> tuple[str, ...]:
    """The energy parameter sets shipped with ViennaRNA (the page offers these; it reads no files)."""
    from ..model.folding import ENERGY_PARAMETERS

    return tuple(ENERGY_PARAMETERS)


def folding_model(energy_parameters: str, temperature: float, dangles: int = 2):
    from ..model.folding import FoldingModel

    return FoldingModel(energy_parameters, dangles, temperature)


def undesignable(structure, folding: dict) -> list[str]:
    """Why no sequence can fold into ``structure`` under the job's folding model (``folding``, as
    :meth:`FoldingModel.to_dict` gives it): :func:`rnadesign.model.designability.undesignable`'s proofs,
    those by loops left out (the target's own warnings name them)."""
    from ..model.designability import undesignable as proofs
    from ..model.folding import FoldingModel

    return proofs(structure, FoldingModel(**folding), loops=False)


def modes() -> tuple[str, str]:
    """(the default mode, every mode's name)."""
    from ..modes import DEFAULT_MODE, MODES

    return DEFAULT_MODE, tuple(MODES)


def check_mode(name: str) -> None:
    from ..modes import get_mode

    get_mode(name)


def run_design(structure, *, name: str, on_best, **settings):
    """:func:`rnadesign.design.design` of one target under :class:`DesignSettings` ``settings``."""
    from ..design import DesignSettings, design
    from ..model.structure import parse_structure

    target = parse_structure(structure, warn=False)  # its warnings were the job's when it was submitted
    return design(target, DesignSettings(**settings), name=name, on_best=on_best)


def render(result, fmt: str) -> str:
    from ..cli.output import render as _render

    return _render(result, fmt)


def render_header(fmt: str) -> str | None:
    from ..cli.output import header

    return header(fmt)


def design_svgs(result) -> list[tuple[str, str]]:
    from ..cli.output import design_svgs as _svgs

    return _svgs(result)
