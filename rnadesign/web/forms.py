"""A job request (the page's form, or a JSON body) checked as ``rnadesign design`` checks its options.

The request's names are the Python API's: those of :class:`~rnadesign.run.settings.DesignSettings`
(``time_limit``, ``num_solutions``, ``seed``, ``mode``), of
:class:`~rnadesign.model.constraints.DesignConstraints` (``sequence``, ``gc_content``, ``gc_tolerance``,
``avoid``, ``allow_gu``) and of the folding model (``energy_parameters``, ``temperature``, ``dangles``),
with the target as ``structure`` (one dot-bracket) or ``targets`` (the text of a file of several, as
``rnadesign design --input`` reads). Each value goes through the command line's own check, so a bad one
gets the command line's one-line message, with the field it belongs to.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import core

#: Request field -> the ``rnadesign design`` option (dest) it stands for.
_OPTION_OF = {
    "time_limit": "time_limit",
    "num_solutions": "num_solutions",
    "seed": "seed",
    "mode": "mode",
    "sequence": "sequence_constraint",
    "gc_content": "gc_content",
    "gc_tolerance": "gc_tolerance",
    "avoid": "avoid",
    "energy_parameters": "energy_parameters",
    "temperature": "temperature",
    "dangles": "dangles",
}
FIELDS = frozenset(_OPTION_OF) | {"structure", "targets", "allow_gu"}


@dataclass(frozen=True)
class Limits:
    """What one request may ask for at the most (``rnadesign serve --max-time-limit`` ...)."""

    max_time_limit: float = 600.0
    """Seconds per target."""
    max_input: int = 100_000
    """Characters of target text (and bytes of a request body)."""
    max_targets: int = 100
    max_solutions: int = 100


class FieldError(core.RnaDesignError):
    """A request value the command line would refuse: the one-line message and the field it names."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class JobSpec:
    """A checked request: what a worker needs to run it, as JSON-ready data."""

    targets: list[dict[str, Any]]
    """Per target: ``name``, ``structure`` (dot-bracket) and ``constraints`` (its own, bound: a dict or None)."""
    settings: dict[str, Any]
    """``DesignSettings`` keywords except ``constraints`` and ``folding`` (``folding`` is a dict of its own)."""
    folding: dict[str, Any]
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"targets": self.targets, "settings": self.settings, "folding": self.folding}


@functools.lru_cache(maxsize=1)
def _design_actions() -> dict[str, argparse.Action]:
    """``rnadesign design``'s options by dest, from the command line's own parser."""
    parser = core.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {action.dest: action for action in sub.choices["design"]._actions}


def option_name(field: str) -> str:
    """The command line's name of a request field, as argparse names it in messages (``-t/--time-limit``)."""
    action = _design_actions().get(_OPTION_OF.get(field, ""))
    return "/".join(action.option_strings) if action is not None else field


def _converted(field: str, value: Any, convert: Callable[[str], Any]) -> Any:
    """``value`` through the command line's type for the field; its error as argparse words it."""
    if isinstance(value, bool):
        value = str(value).lower()
    try:
        return convert(str(value).strip())
    except argparse.ArgumentTypeError as err:
        raise FieldError(field, f"argument {option_name(field)}: {err}") from None
    except (TypeError, ValueError):
        name = getattr(convert, "__name__", repr(convert))
        raise FieldError(field, f"argument {option_name(field)}: invalid {name} value: {str(value)!r}") from None


def _present(data: Mapping[str, Any], field: str) -> bool:
    value = data.get(field)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip()
    if text not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise FieldError(field, f"argument {option_name(field)}: invalid choice: {text!r} (choose from {shown})")
    return text


def _as_bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise FieldError(field, f"{field} must be true or false, got {value!r}")


def check_request(data: Any, limits: Limits = Limits()) -> JobSpec:
    """The job ``data`` asks for, checked; raises :class:`FieldError` with the command line's message."""
    if not isinstance(data, Mapping):
        raise FieldError("", "the request must be a JSON object of options")
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise FieldError(unknown[0], f"unknown option {unknown[0]!r}; the options are {', '.join(sorted(FIELDS))}")
    targets = _targets(data, limits)
    default_mode, modes = core.modes()
    settings: dict[str, Any] = {
        "mode": _choice("mode", data["mode"], modes) if _present(data, "mode") else default_mode,
        "time_limit": _converted("time_limit", data.get("time_limit", 60), core.positive_number),
        "num_solutions": _converted("num_solutions", data.get("num_solutions", 1), core.positive_int),
        "seed": _converted("seed", data["seed"], core.seed_number) if _present(data, "seed") else None,
    }
    if settings["time_limit"] > limits.max_time_limit:
        raise FieldError(
            "time_limit",
            f"argument {option_name('time_limit')}: {settings['time_limit']:g} s is more than this server "
            f"allows ({limits.max_time_limit:g} s, rnadesign serve --max-time-limit)",
        )
    if settings["num_solutions"] > limits.max_solutions:
        raise FieldError(
            "num_solutions",
            f"argument {option_name('num_solutions')}: {settings['num_solutions']} is more than this server "
            f"allows ({limits.max_solutions})",
        )
    folding = _folding(data)
    constraints = _constraints(data)
    checked, warnings = [], []
    field = "targets" if _present(data, "targets") else "structure"
    for target in targets:
        try:
            structure, own, caught = core.bind_target(target, constraints)
        except core.RnaDesignError as err:
            raise FieldError(
                "sequence" if "constraint" in str(err) and field == "structure" else field,
                core.target_error(target, err),
            ) from None
        warnings += [f"{target.name}: {w.message}" for w in caught]
        # As ``rnadesign design`` does: a target proven undesignable is still designed (the closest sequence
        # may be of use), and the page says why none can fold into it.
        warnings += [
            f"{target.name}: no sequence can fold into this target: {reason}"
            for reason in core.undesignable(structure, folding)
        ]
        checked.append(
            {
                "name": target.name,
                "structure": structure.dot_bracket,
                "constraints": None if own is None else own.to_dict(),
            }
        )
    return JobSpec(checked, settings, folding, warnings)


def _targets(data: Mapping[str, Any], limits: Limits) -> list[core.Target]:
    has_structure, has_file = _present(data, "structure"), _present(data, "targets")
    if has_structure and has_file:
        raise FieldError("structure", "give either a structure or a file of targets, not both")
    if not has_structure and not has_file:
        raise FieldError("structure", "no target given: enter a dot-bracket structure or choose a file of targets")
    field = "structure" if has_structure else "targets"
    text = data[field]
    if not isinstance(text, str):
        raise FieldError(field, f"{field} must be text, not {type(text).__name__}")
    if len(text) > limits.max_input:
        raise FieldError(field, f"{field}: {len(text)} characters, more than this server takes ({limits.max_input})")
    if has_structure:
        return [core.Target(name="target", text=text)]
    targets = core.targets_from_text(text.lstrip("\ufeff"), "targets file")
    if len(targets) > limits.max_targets:
        raise FieldError(
            field, f"{len(targets)} targets, more than this server takes in one job ({limits.max_targets})"
        )
    return targets


def _folding(data: Mapping[str, Any]) -> dict[str, Any]:
    sets = core.energy_parameter_sets()
    energy = data.get("energy_parameters") or sets[0]
    if energy not in sets:  # a parameter file's path would reach the file system: the page takes none
        raise FieldError(
            "energy_parameters",
            f"argument {option_name('energy_parameters')}: {str(energy)!r} is not one of {', '.join(sets)} "
            "(the web page takes no parameter files)",
        )
    temperature = _converted("temperature", data["temperature"], float) if _present(data, "temperature") else 37.0
    dangles = _converted("dangles", data["dangles"], int) if _present(data, "dangles") else 2
    try:
        model = core.folding_model(energy, temperature, dangles)
    except core.RnaDesignError as err:
        raise FieldError("dangles" if "dangles" in str(err) else "temperature", str(err)) from None
    return model.to_dict()


def _constraints(data: Mapping[str, Any]) -> core.DesignConstraints | None:
    avoid = data.get("avoid") or ()
    if isinstance(avoid, str):
        try:
            avoid = core.motif_list(avoid)
        except argparse.ArgumentTypeError as err:  # the CLI's own message for --avoid
            raise FieldError("avoid", str(err)) from None
    elif not isinstance(avoid, (list, tuple)):
        raise FieldError("avoid", "avoid must be a list of motifs or comma-separated text")
    gc = _converted("gc_content", data["gc_content"], core.fraction) if _present(data, "gc_content") else None
    tolerance = (
        _converted("gc_tolerance", data["gc_tolerance"], core.fraction) if _present(data, "gc_tolerance") else None
    )
    sequence = str(data["sequence"]) if _present(data, "sequence") else None
    allow_gu = _as_bool("allow_gu", data.get("allow_gu", True))
    try:
        return core.design_constraints(sequence, gc, tolerance, tuple(avoid), not allow_gu)
    except core.RnaDesignError as err:
        message = str(err)
        field = next(
            (f for f, words in _CONSTRAINT_WORDS if any(w in message for w in words)),
            "sequence",
        )
        raise FieldError(field, message) from None


#: Which field a constraint message is about, by the words it uses.
_CONSTRAINT_WORDS = (
    ("gc_tolerance", ("gc_tolerance", "--gc-tolerance")),
    ("gc_content", ("gc_content", "GC")),
    ("avoid", ("motif", "avoid")),
    ("sequence", ("sequence constraint",)),
)
