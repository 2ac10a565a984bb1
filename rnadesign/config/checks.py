"""The checks every configuration dataclass runs on itself: value ranges, field types, unknown keys."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ..errors import ConfigError

__all__ = ["check_range", "check_types", "from_dict"]


def check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{name} must be in [{low}, {high}], got {value!r}")


#: Field annotation -> accepted Python types (annotations are strings under ``from __future__``).
FIELD_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}
FIELD_TYPES["float | None"] = (int, float, type(None))


def check_types(obj: Any) -> None:
    """Refuse a value of the wrong type (a float state_radius, a string learning rate) with its field's name;
    an int where a float is expected becomes that float."""
    for f in fields(obj):
        accepted = FIELD_TYPES.get(str(f.type))
        if accepted is None:
            continue
        value = getattr(obj, f.name)
        numeric = f.type in ("int", "float", "float | None")
        if not isinstance(value, accepted) or (numeric and isinstance(value, bool)):
            kinds = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string"}
            kind = kinds.get(f.type, "a number or null")
            raise ConfigError(f"{f.name} must be {kind}, got {value!r}")
        if f.type in ("float", "float | None") and isinstance(value, int):
            object.__setattr__(obj, f.name, float(value))


def from_dict(cls, data: dict[str, Any], where: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        return cls(**data)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
