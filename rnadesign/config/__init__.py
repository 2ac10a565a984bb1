"""Typed, validated configuration: one dataclass per concern, presets as data.

An :class:`AgentConfig` (:mod:`.agent`) bundles what defines a designer: the environment's state and
reward (:class:`EnvConfig`), the policy network (:class:`NetworkConfig`) and PPO's training
hyperparameters (:class:`PPOConfig`). Presets are plain dictionaries in :data:`PRESETS`; a JSON
file with the same shape (as written by ``autorl best --export``) works wherever a preset name does.
:class:`SearchConfig` (:mod:`.search`) configures the ensemble-aware search of ``hybrid`` and ``search``.
Every dataclass checks its own values (:mod:`.checks`) and raises :class:`~rnadesign.errors.ConfigError`.
"""

from __future__ import annotations

from .agent import PRESETS, AgentConfig, EnvConfig, NetworkConfig, PPOConfig, load_agent_config
from .search import FINISHES, HIERARCHY_TIMES, OBJECTIVES, SEARCH_STYLES, SearchConfig, load_search_config

__all__ = [
    "FINISHES",
    "HIERARCHY_TIMES",
    "OBJECTIVES",
    "PRESETS",
    "SEARCH_STYLES",
    "AgentConfig",
    "EnvConfig",
    "NetworkConfig",
    "PPOConfig",
    "SearchConfig",
    "load_agent_config",
    "load_search_config",
]
