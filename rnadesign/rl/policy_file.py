"""Policy files: weights and configuration only, loaded without executing anything from the file.

A policy file is a `safetensors <https://github.com/huggingface/safetensors>`_ file: the weights
as plain arrays, and in its metadata ``format`` (a version string), ``agent`` (the
:class:`~rnadesign.config.AgentConfig` as JSON) and ``card`` (training data, budget, ViennaRNA
version, validation score, as JSON). safetensors holds no code by construction, and reading it
needs neither torch nor pickle: sampling from a policy starts without importing torch.

Policy files of the first format (``rnadesign-policy-1``, a ``torch.save`` of the same dictionary)
still load, through ``torch.load(weights_only=True)``, which refuses pickled code. Checkpoints
(weights and optimiser state, to resume training) stay torch files read the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import AgentConfig
from ..errors import RnaDesignError
from ..files import atomic_open

__all__ = [
    "FORMAT",
    "SHIPPED_POLICIES",
    "PolicyFile",
    "PolicyFileError",
    "atomic_torch_save",
    "default_policy_path",
    "policy_path",
    "load_policy",
    "read_weights_only",
    "save_policy",
]

FORMAT = "rnadesign-policy-2"
"""safetensors, configuration and card in the metadata."""
FORMAT_TORCH = "rnadesign-policy-1"
"""``torch.save`` of ``{format, agent, card, state_dict}`` (read only)."""
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive
_PICKLE_MAGIC = b"\x80"  # an old-style torch (or plain pickle) file


class PolicyFileError(RnaDesignError):
    """A policy file is missing, truncated, not a policy file, or does not fit its configuration."""


@dataclass
class PolicyFile:
    agent: AgentConfig
    state_dict: dict[str, Any]
    """Weights by SB3 parameter name: NumPy arrays (or tensors, from a first-format file)."""
    card: dict[str, Any]


#: The policies shipped inside the package, by the name ``--policy`` also takes: ``default`` (PPO
#: meta-training) and ``expert`` (that policy trained further by expert iteration, ``rnadesign.expert``).
SHIPPED_POLICIES = ("default", "expert")


def default_policy_path(name: str = "default") -> Path:
    """A pre-trained policy shipped inside the package (:data:`SHIPPED_POLICIES`)."""
    return Path(__file__).resolve().parent / "models" / f"{name}.safetensors"


def policy_path(policy: str | Path | None = None, default: str = "default") -> Path:
    """The file of ``policy``: a path, a shipped policy's name (where no such file exists), or None for the
    shipped policy ``default``."""
    if policy is None:
        return default_policy_path(default)
    if str(policy) in SHIPPED_POLICIES and not Path(policy).exists():
        return default_policy_path(str(policy))
    return Path(policy)


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` so that a reader sees the old file or the new one, never half of one."""
    import torch

    with atomic_open(path, "wb") as f:
        torch.save(obj, f)


def _as_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.ascontiguousarray(value)


def save_policy(path: str | Path, agent: AgentConfig, state_dict: dict[str, Any], card: dict[str, Any]) -> Path:
    """Write a policy file (safetensors) atomically; ``state_dict`` values may be tensors or arrays."""
    from safetensors.numpy import save

    metadata = {
        "format": FORMAT,
        "agent": json.dumps(agent.to_dict()),
        "card": json.dumps(card),  # plain types only: a card that cannot be JSON fails here, not on load
    }
    data = save({name: _as_array(value) for name, value in state_dict.items()}, metadata=metadata)
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def read_weights_only(path: Path, expected_format: str, what: str) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of an rnadesign torch file, checked for its format string.

    Raises:
        PolicyFileError: unreadable (truncated, foreign, or holding pickled code) or of another format.
    """
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for bad input: report them as one
        text = str(err).strip()
        if "Weights only load failed" in text:  # pickled code or objects: never loaded, whatever torch advises
            raise PolicyFileError(_holds_code(path, text)) from None
        reason = text.splitlines()[0] if text else type(err).__name__
        raise PolicyFileError(f"{path}: not a readable {what} (truncated or foreign?): {reason[:200]}") from None
    if not isinstance(payload, dict) or payload.get("format") != expected_format:
        raise PolicyFileError(f"{path}: not an rnadesign {what} (expected format {expected_format!r})")
    return payload


def _holds_code(path: Path, torch_text: str) -> str:
    """The refusal of a file that pickles code or objects, naming what it would call (torch's advice to
    load it without ``weights_only`` is left out: that would run the code)."""
    called = re.search(r"GLOBAL (\S+)", torch_text)
    what = f" (it would call {called[1]})" if called else ""
    return f"{path}: refused: the file holds code{what}, not only weights; it was not loaded"


def _read_safetensors(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            arrays = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as err:  # safetensors raises its own error types for bad headers and short files
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise PolicyFileError(f"{path}: not a readable policy file (truncated or foreign?): {reason[:200]}") from None
    if metadata.get("format") != FORMAT:
        raise PolicyFileError(f"{path}: not an rnadesign policy file (expected format {FORMAT!r})")
    try:
        payload = {"agent": json.loads(metadata["agent"]), "card": json.loads(metadata.get("card", "{}"))}
    except (KeyError, json.JSONDecodeError) as err:
        raise PolicyFileError(f"{path}: bad configuration in policy file: {err}") from None
    return payload, arrays


def load_policy(path: str | Path) -> PolicyFile:
    """Read a policy file (weights only; either format).

    Raises:
        PolicyFileError: missing, truncated or foreign file, with the reason.
    """
    path = policy_path(path)
    if path.is_dir():
        raise PolicyFileError(f"{path}: is a directory, not a policy file (.safetensors or .pt)")
    if not path.is_file():
        raise PolicyFileError(f"{path}: no such policy file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic.startswith((_ZIP_MAGIC, _PICKLE_MAGIC)):
        payload = read_weights_only(path, FORMAT_TORCH, "policy file")
        state_dict = payload.get("state_dict")
        if not isinstance(state_dict, dict) or not all(hasattr(v, "detach") for v in state_dict.values()):
            raise PolicyFileError(f"{path}: policy file holds no weights")
    else:
        payload, state_dict = _read_safetensors(path)
    if not state_dict:
        raise PolicyFileError(f"{path}: policy file holds no weights")
    agent_data = payload.get("agent")
    try:
        agent = AgentConfig.from_dict(agent_data, name=agent_data.get("name", path.name))
    except (AttributeError, KeyError, TypeError, ValueError) as err:
        raise PolicyFileError(f"{path}: bad configuration in policy file: {err}") from None
    _check_weights(path, agent, state_dict)
    card = payload.get("card", {})
    return PolicyFile(agent, dict(state_dict), dict(card) if isinstance(card, dict) else {})


def _check_weights(path: Path, agent: AgentConfig, state_dict: dict[str, Any]) -> None:
    """The weights must be those of the configured network (a file of the right format can still hold
    another network's weights, or none of them)."""
    from .numpy_policy import NumpyPolicy

    if not NumpyPolicy.supports(agent):
        return  # checked when torch loads them
    try:
        NumpyPolicy(agent, state_dict)
    except (ValueError, TypeError) as err:
        raise PolicyFileError(f"{path}: the weights do not fit the policy file's own network: {err}") from None
