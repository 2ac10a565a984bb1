"""The search space, and the one pure function from a sampled configuration to rnadesign's config.

The dimensions and ranges are the original LEARNA ones (docs/design.md, "The BOHB search space"),
with the conditionality that was implicit there declared as conditions (a conv layer's channels
only exist when its radius is non-zero; LSTM units only with LSTM layers). They are defined once,
as data (:func:`dimensions`); BOHB's ConfigSpace (:func:`search_space`) and PriorBand's NePS space
(:func:`autorl.priorband.neps_space`) are both built from that list.
stable-baselines3's PPO adds its own hyperparameters, and the environment's ``include_sequence``
state option joins the search.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
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

__all__ = [
    "MODES",
    "Dimension",
    "active",
    "dimensions",
    "from_agent_config",
    "search_space",
    "state_radius",
    "to_agent_config",
    "to_search_config",
]

#: What a search tunes for: ``learna`` (learning on each target), ``meta`` (meta-training), or
#: ``hybrid`` (the ensemble-aware search of rnadesign's ``hybrid`` mode around the shipped policy).
MODES = ("learna", "meta", "hybrid")

#: The largest state radius the original searched (``state_radius_relative`` = 1).
MAX_STATE_RADIUS = 32

# Ranges that differ between the two searches (docs/design.md); everything else is shared.
_LEARNING_RATE = {"learna": (1e-5, 1e-3), "meta": (1e-6, 1e-4)}
_ENTROPY = {"learna": (1e-5, 1e-2), "meta": (5e-5, 5e-3)}


@dataclass(frozen=True)
class Dimension:
    """One hyperparameter of a search, as data: the ConfigSpace and the NePS spaces are both built from these."""

    name: str
    kind: str
    """``float``, ``int`` or ``categorical``."""
    bounds: tuple[float, float] = (0.0, 0.0)
    """Lower and upper bound (numeric kinds)."""
    choices: tuple[str, ...] = ()
    """The values of a ``categorical``."""
    log: bool = False
    default: Any = None
    """None: ConfigSpace's own default (the middle of the range, on the log scale for ``log``)."""
    parent: str | None = None
    """Active only when this integer hyperparameter is above 0 (a ConfigSpace ``GreaterThanCondition``)."""

    def __post_init__(self) -> None:
        if self.kind not in ("float", "int", "categorical"):
            raise ValueError(f"unknown kind {self.kind!r} of {self.name}")


def _float(name: str, bounds: tuple[float, float], *, log: bool = False, default: float | None = None) -> Dimension:
    return Dimension(name, "float", bounds, log=log, default=default)


def _int(name: str, bounds: tuple[int, int], *, log: bool = False, default: int | None = None,
         parent: str | None = None) -> Dimension:  # fmt: skip
    return Dimension(name, "int", bounds, log=log, default=default, parent=parent)


def _categorical(name: str, choices: list[str], default: str) -> Dimension:
    return Dimension(name, "categorical", choices=tuple(choices), default=default)


def dimensions(mode: str = "learna") -> list[Dimension]:
    """The hyperparameters of a ``mode`` search, in the order the ConfigSpace holds them.

    ``learna`` and ``meta`` differ in the learning-rate and entropy ranges, and only ``learna``
    tunes the number of environments stepped together (meta-training has one environment per
    worker process); ``hybrid`` tunes the ensemble-aware search instead of an agent.
    """
    if mode not in MODES:
        raise AutoRLError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "hybrid":
        return _hybrid_dimensions()
    dims = [
        # Training (the original's names and ranges).
        _float("learning_rate", _LEARNING_RATE[mode], log=True),
        _int("batch_size", (32, 128), log=True, default=64),
        _float("entropy_regularization", _ENTROPY[mode], log=True),
        # Reward and state.
        _float("reward_exponent", (1.0, 10.0), default=5.0),
        _float("state_radius_relative", (0.0, 1.0), default=1.0),
        _categorical("include_sequence", ["no", "yes"], default="no"),
        # Network. A conv layer's channels only exist when its radius is non-zero; LSTM units only
        # with LSTM layers.
        _int("embedding_size", (0, 4), default=0),
        _int("conv_radius1", (0, 8), default=0),
        _int("conv_channels1", (1, 32), default=8, parent="conv_radius1"),
        _int("conv_radius2", (0, 4), default=0),
        _int("conv_channels2", (1, 32), default=8, parent="conv_radius2"),
        _int("num_fc_layers", (1, 2), default=1),
        _int("fc_units", (8, 64), log=True, default=32),
        _int("num_lstm_layers", (0, 2), default=0),
        _int("lstm_units", (1, 64), log=True, default=16, parent="num_lstm_layers"),
        # stable-baselines3 PPO. n_steps follows from batch_size (episodes per update, as in the
        # paper) and the targets' lengths; n_minibatches sets SB3's minibatch size.
        _int("n_epochs", (1, 10), default=4),
        _int("n_minibatches", (1, 8), log=True, default=4),
        _float("clip_range", (0.05, 0.4), default=0.2),
        _float("gae_lambda", (0.8, 1.0), default=0.95),
        _float("vf_coef", (0.1, 1.0), default=0.5),
    ]
    if mode == "learna":
        dims.append(_int("n_envs", (1, 16), log=True, default=4))
    return dims


def _hybrid_dimensions() -> list[Dimension]:
    """The ensemble-aware search's own settings (``rnadesign.config.SearchConfig``), defaults as shipped."""
    from rnadesign.config import FINISHES, HIERARCHY_TIMES, OBJECTIVES, SEARCH_STYLES
    from rnadesign.modes import get_mode

    d = get_mode("hybrid").search_config(SearchConfig())  # hybrid's own values where SearchConfig leaves None
    return [
        _categorical("objective", list(OBJECTIVES), default=d.objective),
        _float("kt_scale", (0.2, 2.0), log=True, default=d.kt_scale),
        _int("population", (2, 64), log=True, default=d.population),
        _float("parent_temperature", (0.005, 3.0), log=True, default=d.parent_temperature),
        _float("site_floor", (0.001, 0.3), log=True, default=d.site_floor),
        _float("neighbour_pair", (0.0, 1.0), default=d.neighbour_pair),
        _float("bonus_hairpins", (0.0, 0.5), default=d.bonus_hairpins),
        _int("patience", (20, 2000), log=True, default=d.patience),
        _categorical("restart", ["fresh", "best"], default=d.restart),
        _categorical("style", list(SEARCH_STYLES), default=d.style),
        _float("boost", (1.0, 16.0), log=True, default=d.boost),
        _float("policy_prior", (0.0, 1.0), default=d.policy_prior),
        _int("policy_designs", (1, 128), log=True, default=d.policy_designs),
        _float("policy_share", (0.0, 0.5), default=d.policy_share),
        _categorical("policy_parts", ["no", "yes"], default="yes" if d.policy_parts else "no"),
        _float("finish_share", (0.0, 0.8), default=d.finish_share),
        _categorical("finish", list(FINISHES), default=d.finish),
        _categorical("repair_loops", ["no", "yes"], default="yes" if d.repair_loops else "no"),
        _categorical("repair_interiors", ["no", "yes"], default="yes" if d.repair_interiors else "no"),
        _categorical("lock_motifs", ["no", "yes"], default="yes" if d.lock_motifs else "no"),
        _float("hierarchy_share", (0.0, 0.8), default=d.hierarchy_share),
        _categorical("hierarchy_time", list(HIERARCHY_TIMES), default=d.hierarchy_time),
        _int("hierarchy_leaf", (40, 200), log=True, default=d.hierarchy_leaf),
        _float("start_finish", (0.0, 0.5), default=d.start_finish),
        _float("adapt_rate", (0.0, 2.0), default=d.adapt_rate),
        _float("adapt_prior", (0.0, 2.0), default=d.adapt_prior),
        _float("adapt_avoid", (0.0, 2.0), default=d.adapt_avoid),
        _float("crossover", (0.0, 0.5), default=d.crossover),
        _categorical("chimera", ["no", "yes"], default="yes" if d.chimera else "no"),
        _float("redraw", (0.0, 0.5), default=d.redraw),
        _int("redraw_radius", (1, 12), default=d.redraw_radius),
    ]


def active(config: Mapping[str, Any], mode: str = "learna") -> dict[str, Any]:
    """``config`` without the hyperparameters its conditions switch off (as ConfigSpace samples them)."""
    by_name = {d.name: d for d in dimensions(mode)}
    return {
        k: v
        for k, v in config.items()
        if k not in by_name or by_name[k].parent is None or float(config.get(by_name[k].parent, 0)) > 0
    }


def search_space(mode: str = "learna", seed: int | None = None) -> ConfigurationSpace:
    """The joint space of network, state, reward and PPO hyperparameters for a ``mode`` search (ConfigSpace).

    Built from :func:`dimensions`, with the conditions declared as ConfigSpace conditions.

    Args:
        mode: one of :data:`MODES`.
        seed: seeds the space's sampler.
    """
    dims = dimensions(mode)
    space = ConfigurationSpace(name=f"rnadesign-{mode}", seed=seed)
    built = {}
    for d in dims:
        default = {} if d.default is None else {"default": d.default}
        if d.kind == "float":
            built[d.name] = Float(d.name, d.bounds, log=d.log, **default)
        elif d.kind == "int":
            built[d.name] = Integer(d.name, (int(d.bounds[0]), int(d.bounds[1])), log=d.log, **default)
        else:
            built[d.name] = Categorical(d.name, list(d.choices), **default)
    space.add(list(built.values()))
    conditions = [GreaterThanCondition(built[d.name], built[d.parent], 0) for d in dims if d.parent]
    if conditions:
        space.add(conditions)
    return space


def to_search_config(config: Mapping[str, Any]) -> SearchConfig:
    """Map a configuration of the ``hybrid`` space onto rnadesign's :class:`SearchConfig` (pure)."""
    c = plain(dict(config))
    known = {f.name for f in dataclasses.fields(SearchConfig)}
    unknown = sorted(set(c) - known)
    if unknown:
        raise AutoRLError(f"unknown search hyperparameter(s) {', '.join(unknown)}")
    for flag in ("policy_parts", "repair_loops", "repair_interiors", "lock_motifs", "chimera"):  # yes/no
        if flag in c:
            c[flag] = c[flag] in ("yes", True)
    return SearchConfig(**{k: float(v) if k in _FLOATS else v for k, v in c.items()})


_FLOATS = (
    "kt_scale",
    "parent_temperature",
    "site_floor",
    "neighbour_pair",
    "bonus_hairpins",
    "boost",
    "policy_prior",
    "policy_share",
    "finish_share",
    "hierarchy_share",
    "start_finish",
    "adapt_rate",
    "adapt_prior",
    "adapt_avoid",
    "crossover",
    "redraw",
)


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


def from_agent_config(agent: AgentConfig, mode: str = "learna") -> dict[str, Any]:
    """The configuration of the ``mode`` space nearest ``agent``: :func:`to_agent_config` backwards.

    Used to turn a preset (the paper's LEARNA or Meta-LEARNA) into a prior. ``state_radius`` goes
    back to ``state_radius_relative`` through :func:`state_radius`'s formula; values outside the
    space's range (none of the presets has any) are clipped to it; inactive hyperparameters are left out.
    """
    if mode == "hybrid":
        raise AutoRLError("a hybrid search tunes the search, not an agent: an agent preset is no prior for it")
    net, env, ppo = agent.network, agent.env, agent.ppo
    radius = net.conv_radius1 or net.conv_radius2
    m = 2 * (2 * radius + 1) - 1 if radius else 0
    # the middle of the interval that int() in state_radius maps onto env.state_radius, so no
    # rounding error lands one below it
    relative = 1.0 if m >= MAX_STATE_RADIUS else min((env.state_radius - m + 0.5) / (MAX_STATE_RADIUS - m), 1.0)
    values: dict[str, Any] = {
        "learning_rate": ppo.learning_rate,
        "batch_size": ppo.batch_size,
        "entropy_regularization": ppo.entropy_coef,
        "reward_exponent": env.reward_exponent,
        "state_radius_relative": relative,
        "include_sequence": "yes" if env.include_sequence else "no",
        "embedding_size": net.embedding_size,
        "conv_radius1": net.conv_radius1,
        "conv_channels1": net.conv_channels1,
        "conv_radius2": net.conv_radius2,
        "conv_channels2": net.conv_channels2,
        "num_fc_layers": net.num_fc_layers,
        "fc_units": net.fc_units,
        "num_lstm_layers": net.num_lstm_layers,
        "lstm_units": net.lstm_units,
        "n_epochs": ppo.n_epochs,
        "n_minibatches": ppo.n_minibatches,
        "clip_range": ppo.clip_range,
        "gae_lambda": ppo.gae_lambda,
        "vf_coef": ppo.vf_coef,
        "n_envs": ppo.n_envs,
    }
    config = {}
    for d in dimensions(mode):
        value = values[d.name]
        if d.kind != "categorical":
            value = min(max(value, d.bounds[0]), d.bounds[1])
            value = int(round(value)) if d.kind == "int" else float(value)
        config[d.name] = value
    return active(config, mode)
