"""Policy files: weights and configuration only, loaded without executing anything from the file.

A policy file is a ``torch.save`` of a plain dictionary: ``format`` (a version string),
``agent`` (the :class:`~rnadesign.config.AgentConfig` as a dict), ``card`` (training data,
budget, ViennaRNA version, validation score) and ``state_dict`` (tensors). It is read with
``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .config import AgentConfig
from .errors import RnaDesignError
from .files import atomic_open

__all__ = ["FORMAT", "PolicyFile", "PolicyFileError", "load_policy", "save_policy", "default_policy_path"]

FORMAT = "rnadesign-policy-1"


class PolicyFileError(RnaDesignError):
    """A policy file is missing, truncated, not a policy file, or does not fit its configuration."""


@dataclass
class PolicyFile:
    agent: AgentConfig
    state_dict: dict[str, torch.Tensor]
    card: dict[str, Any]


def default_policy_path() -> Path:
    """The pre-trained policy shipped inside the package."""
    return Path(__file__).resolve().parent / "models" / "default.pt"


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` so that a reader sees the old file or the new one, never half of one."""
    with atomic_open(path, "wb") as f:
        torch.save(obj, f)


def save_policy(path: str | Path, agent: AgentConfig, state_dict: dict[str, torch.Tensor], card: dict[str, Any]):
    """Write a policy file atomically."""
    payload = {
        "format": FORMAT,
        "agent": agent.to_dict(),
        "card": json.loads(json.dumps(card)),  # plain types only: weights_only loading refuses others
        "state_dict": {k: v.detach().cpu().clone() for k, v in state_dict.items()},
    }
    atomic_torch_save(payload, Path(path))


def read_weights_only(path: Path, expected_format: str, what: str) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of an rnadesign file, checked for its format string.

    Raises:
        PolicyFileError: unreadable (truncated, foreign, or holding pickled code) or of another format.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for bad input: report them as one
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise PolicyFileError(f"{path}: not a readable {what} (truncated or foreign?): {reason[:200]}") from None
    if not isinstance(payload, dict) or payload.get("format") != expected_format:
        raise PolicyFileError(f"{path}: not an rnadesign {what} (expected format {expected_format!r})")
    return payload


def load_policy(path: str | Path) -> PolicyFile:
    """Read a policy file (weights only).

    Raises:
        PolicyFileError: missing, truncated or foreign file, with the reason.
    """
    path = Path(path)
    if not path.is_file():
        raise PolicyFileError(f"{path}: no such policy file")
    payload = read_weights_only(path, FORMAT, "policy file")
    try:
        agent = AgentConfig.from_dict(payload["agent"], name=payload["agent"].get("name", path.name))
    except (KeyError, TypeError, ValueError) as err:
        raise PolicyFileError(f"{path}: bad configuration in policy file: {err}") from None
    state_dict = payload.get("state_dict")
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise PolicyFileError(f"{path}: policy file holds no weights")
    return PolicyFile(agent, state_dict, dict(payload.get("card", {})))
