"""rnadesign: design RNA sequences that fold into a target secondary structure.

Importing the package is cheap: the names below load their modules (ViennaRNA, torch) on first
use, so ``import rnadesign.model.structure`` or ``rnadesign --help`` pays for nothing heavy. The
gymnasium id ``RnaDesign-v0`` is registered when :mod:`rnadesign.rl.env` is imported, and here too
when gymnasium is already loaded; ``gym.make("rnadesign.rl.env:RnaDesign-v0")`` works either way.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "AgentConfig": "config",
    "EnvConfig": "config",
    "NetworkConfig": "config",
    "PPOConfig": "config",
    "load_agent_config": "config",
    "FoldingModel": "model.folding",
    "check_design": "model.folding",
    "fold": "model.folding",
    "is_solved": "model.folding",
    "is_unique_mfe": "model.folding",
    "InvalidStructureError": "model.structure",
    "Structure": "model.structure",
    "parse_structure": "model.structure",
    "RnaDesignError": "errors",
    "Design": "design",
    "DesignSettings": "run.settings",
    "design": "design",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rnadesign' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if "gymnasium" in sys.modules:  # `import gymnasium; import rnadesign; gym.make("RnaDesign-v0")`
    from .rl.registration import register_envs

    register_envs()
