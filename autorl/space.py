"""The BOHB search space, and the one pure function from a sampled configuration to rnadesign's config.

The dimensions and ranges are the original LEARNA ones (docs/design.md, "The BOHB search space"),
with the conditionality that was implicit there declared as ConfigSpace conditions (a conv layer's
channels only exist when its radius is non-zero; LSTM units only with LSTM layers).
stable-baselines3's PPO adds its own hyperparameters, and the environment's ``include_sequence``
state option joins the search.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

from ConfigSpace import (
    Categorical,
    ConfigurationSpace,
    Float,
    GreaterThanCondition,
    Integer,
)

from rnadesign.config import AgentConfig, EnvConfig, NetworkConfig, PPOConfig, SearchConfig
from rnadesign.errors import RnaDesignError

from .compat import plain
from .errors import AutoRLError

__all__ = ["MODES", "search_space", "state_radius", "to_agent_config", "to_search_config"]

#: What a search tunes for: ``learna`` (learning on each target), ``meta`` (meta-training), or
#: ``hybrid`` (the ensemble-aware search of rnadesign's ``hybrid`` mode around the shipped policy).
MODES = ("learna", "meta", "hybrid")

#: The largest state radius the original searched (``state_radius_relative`` = 1).
MAX_STATE_RADIUS = 32

# Ranges that differ between the two searches (docs/design.md); everything else is shared.
_LEARNING_RATE = {"learna": (1e-5, 1e-3), "meta": (1e-6, 1e-4)}
_ENTROPY = {"learna": (1e-5, 1e-2), "meta": (5e-5, 5e-3)}


def search_space(mode: str = "learna", seed: int | None = None) -> ConfigurationSpace:
    """The joint space of network, state, reward and PPO hyperparameters for a ``mode`` search.

    Args:
        mode: ``learna`` or ``meta``: they differ in the learning-rate and entropy ranges, and only
            ``learna`` tunes the number of environments stepped together (meta-training has one
            environment per worker process).
        seed: seeds the space's sampler.
    """
    if mode not in MODES:
        raise AutoRLError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
    space = ConfigurationSpace(name=f"rnadesign-{mode}", seed=seed)
    if mode == "hybrid":
        space.add(_hybrid_hyperparameters())
        return space
    conv_radius1 = Integer("conv_radius1", (0, 8), default=0)
    conv_channels1 = Integer("conv_channels1", (1, 32), default=8)
    conv_radius2 = Integer("conv_radius2", (0, 4), default=0)
    conv_channels2 = Integer("conv_channels2", (1, 32), default=8)
    num_lstm_layers = Integer("num_lstm_layers", (0, 2), default=0)
    lstm_units = Integer("lstm_units", (1, 64), log=True, default=16)
    hyperparameters = [
        # Training (the original's names and ranges).
        Float("learning_rate", _LEARNING_RATE[mode], log=True),
        Integer("batch_size", (32, 128), log=True, default=64),
        Float("entropy_regularization", _ENTROPY[mode], log=True),
        # Reward and state.
        Float("reward_exponent", (1.0, 10.0), default=5.0),
        Float("state_radius_relative", (0.0, 1.0), default=1.0),
        Categorical("include_sequence", ["no", "yes"], default="no"),
        # Network.
        Integer("embedding_size", (0, 4), default=0),
        conv_radius1,
        conv_channels1,
        conv_radius2,
        conv_channels2,
        Integer("num_fc_layers", (1, 2), default=1),
        Integer("fc_units", (8, 64), log=True, default=32),
        num_lstm_layers,
        lstm_units,
        # stable-baselines3 PPO. n_steps follows from batch_size (episodes per update, as in the
        # paper) and the targets' lengths; n_minibatches sets SB3's minibatch size.
        Integer("n_epochs", (1, 10), default=4),
        Integer("n_minibatches", (1, 8), log=True, default=4),
        Float("clip_range", (0.05, 0.4), default=0.2),
        Float("gae_lambda", (0.8, 1.0), default=0.95),
        Float("vf_coef", (0.1, 1.0), default=0.5),
    ]
    if mode == "learna":
        hyperparameters.append(Integer("n_envs", (1, 16), log=True, default=4))
    space.add(hyperparameters)
    space.add(
        [
            GreaterThanCondition(conv_channels1, conv_radius1, 0),
            GreaterThanCondition(conv_channels2, conv_radius2, 0),
            GreaterThanCondition(lstm_units, num_lstm_layers, 0),
        ]
    )
    return space


def _hybrid_hyperparameters() -> list:
    """The ensemble-aware search's own settings (``rnadesign.config.SearchConfig``), defaults as shipped."""
    from rnadesign.config import OBJECTIVES

    d = SearchConfig()
    return [
        Categorical("objective", list(OBJECTIVES), default=d.objective),
        Integer("population", (2, 64), log=True, default=d.population),
        Float("parent_temperature", (0.005, 3.0), log=True, default=d.parent_temperature),
        Float("site_floor", (0.001, 0.3), log=True, default=d.site_floor),
        Float("neighbour_pair", (0.0, 1.0), default=d.neighbour_pair),
        Integer("patience", (20, 2000), log=True, default=d.patience),
        Categorical("restart", ["fresh", "best"], default=d.restart),
        Float("boost", (1.0, 16.0), log=True, default=d.boost),
        Float("policy_prior", (0.0, 1.0), default=d.policy_prior),
        Integer("policy_designs", (1, 128), log=True, default=d.policy_designs),
    ]


def to_search_config(config: Mapping[str, Any]) -> SearchConfig:
    """Map a configuration of the ``hybrid`` space onto rnadesign's :class:`SearchConfig` (pure)."""
    c = plain(dict(config))
    known = {f.name for f in dataclasses.fields(SearchConfig)}
    unknown = sorted(set(c) - known)
    if unknown:
        raise AutoRLError(f"unknown search hyperparameter(s) {', '.join(unknown)}")
    return SearchConfig(**{k: float(v) if k in _FLOATS else v for k, v in c.items()})


_FLOATS = ("parent_temperature", "site_floor", "neighbour_pair", "boost", "policy_prior")


def state_radius(relative: float, conv_radius1: int, conv_radius2: int) -> int:
    """The original's mapping of ``state_radius_relative`` onto a radius.

    ``m`` is ``2 * conv_size - 1`` of the first active conv layer (size ``2 * radius + 1``), 0 when
    both are off; the radius runs from ``m`` (relative 0) to 32 (relative 1).
    """
    radius = conv_radius1 or conv_radius2
    m = 2 * (2 * radius + 1) - 1 if radius else 0
    return int(m + (MAX_STATE_RADIUS - m) * relative)


@functools.cache
def _known_names() -> frozenset[str]:
    return frozenset(name for mode in MODES if mode != "hybrid" for name in search_space(mode))


def to_agent_config(config: Mapping[str, Any], name: str = "autorl") -> AgentConfig:
    """Map a flat configuration of :func:`search_space` onto rnadesign's config dataclasses.

    Inactive hyperparameters (absent from ``config``) keep the dataclasses' defaults. Pure: no I/O.

    Raises:
        AutoRLError: a key the space does not have.
        ConfigError: a value out of range.
    """
    c = plain(dict(config))  # configurations may hold numpy scalars, which must not leak on
    unknown = sorted(set(c) - _known_names())
    if unknown:
        raise AutoRLError(f"unknown hyperparameter(s) {', '.join(unknown)}")
    try:
        return _agent_config(c, name)
    except RnaDesignError:
        raise
    except (TypeError, ValueError) as err:  # a configuration read from a hand-edited log
        raise AutoRLError(f"a configuration value of the wrong type ({err})") from None


def _agent_config(c: dict[str, Any], name: str) -> AgentConfig:
    radius1, radius2 = int(c.get("conv_radius1", 0)), int(c.get("conv_radius2", 0))
    network = NetworkConfig(
        embedding_size=int(c.get("embedding_size", 0)),
        conv_radius1=radius1,
        conv_channels1=int(c.get("conv_channels1", NetworkConfig.conv_channels1)),
        conv_radius2=radius2,
        conv_channels2=int(c.get("conv_channels2", NetworkConfig.conv_channels2)),
        num_lstm_layers=int(c.get("num_lstm_layers", 0)),
        lstm_units=int(c.get("lstm_units", NetworkConfig.lstm_units)),
        num_fc_layers=int(c.get("num_fc_layers", NetworkConfig.num_fc_layers)),
        fc_units=int(c.get("fc_units", NetworkConfig.fc_units)),
    )
    env = EnvConfig(
        state_radius=state_radius(float(c.get("state_radius_relative", 1.0)), radius1, radius2),
        reward_exponent=float(c.get("reward_exponent", EnvConfig.reward_exponent)),
        include_sequence=c.get("include_sequence", "no") == "yes",
    )
    ppo = PPOConfig(
        learning_rate=float(c.get("learning_rate", PPOConfig.learning_rate)),
        batch_size=int(c.get("batch_size", PPOConfig.batch_size)),
        entropy_coef=float(c.get("entropy_regularization", PPOConfig.entropy_coef)),
        n_epochs=int(c.get("n_epochs", PPOConfig.n_epochs)),
        n_minibatches=int(c.get("n_minibatches", PPOConfig.n_minibatches)),
        clip_range=float(c.get("clip_range", PPOConfig.clip_range)),
        gae_lambda=float(c.get("gae_lambda", PPOConfig.gae_lambda)),
        vf_coef=float(c.get("vf_coef", PPOConfig.vf_coef)),
        n_envs=int(c.get("n_envs", PPOConfig.n_envs)),
    )
    return AgentConfig(env=env, network=network, ppo=ppo, name=name)
