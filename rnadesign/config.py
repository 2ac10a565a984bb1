"""Typed, validated configuration: one dataclass per concern, presets as data.

An :class:`AgentConfig` bundles what defines a designer: the environment's state and reward
(:class:`EnvConfig`), the policy network (:class:`NetworkConfig`) and PPO's training
hyperparameters (:class:`PPOConfig`). Presets are plain dictionaries in :data:`PRESETS`; a JSON
file with the same shape (as written by ``autorl best --export``) works wherever a preset name does.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = [
    "AgentConfig",
    "EnvConfig",
    "NetworkConfig",
    "PPOConfig",
    "PRESETS",
    "SearchConfig",
    "load_search_config",
    "load_agent_config",
]


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{name} must be in [{low}, {high}], got {value!r}")


#: Field annotation -> accepted Python types (annotations are strings under ``from __future__``).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}
_FIELD_TYPES["float | None"] = (int, float, type(None))


def _check_types(obj: Any) -> None:
    """Refuse a value of the wrong type (a float state_radius, a string learning rate) with its field's name;
    an int where a float is expected becomes that float."""
    for f in fields(obj):
        accepted = _FIELD_TYPES.get(str(f.type))
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


def _from_dict(cls, data: dict[str, Any], where: str):
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


@dataclass(frozen=True)
class EnvConfig:
    """What the agent sees and how it is rewarded."""

    state_radius: int = 32
    """The state is a window of 2*state_radius+1 target symbols centred on the current site."""
    reward_exponent: float = 1.0
    """Terminal reward is (1 - distance/length) ** reward_exponent."""
    mutation_threshold: int = 5
    """Run the local improvement step when 0 < distance < mutation_threshold (0 turns it off)."""
    include_sequence: bool = False
    """Add a second state channel with the nucleotides already placed in the window (not in the paper)."""

    def __post_init__(self) -> None:
        _check_types(self)
        _check_range("state_radius", self.state_radius, 0, 512)
        _check_range("reward_exponent", self.reward_exponent, 0.01, 100)
        _check_range("mutation_threshold", self.mutation_threshold, 0, 8)

    @property
    def window(self) -> int:
        """Width of the state window."""
        return 2 * self.state_radius + 1


@dataclass(frozen=True)
class NetworkConfig:
    """The policy's feature layers (the options LEARNA's BOHB searched); see ``policies.py``."""

    embedding_size: int = 0
    """Size of the learned symbol embedding; 0 feeds one-hot codes instead."""
    conv_radius1: int = 0
    """First conv1d layer: kernel width 2*radius+1; 0 turns the layer off."""
    conv_channels1: int = 8
    """Output channels of the first conv layer."""
    conv_radius2: int = 0
    """Second conv1d layer: kernel width 2*radius+1; 0 turns the layer off."""
    conv_channels2: int = 8
    """Output channels of the second conv layer."""
    num_lstm_layers: int = 0
    """LSTM layers run along the window after the convolutions (0 = none)."""
    lstm_units: int = 16
    """Hidden units of each LSTM layer."""
    num_fc_layers: int = 1
    """Dense ReLU layers of the policy and value heads."""
    fc_units: int = 32
    """Units of each dense layer."""

    def __post_init__(self) -> None:
        _check_types(self)
        _check_range("embedding_size", self.embedding_size, 0, 4)
        _check_range("conv_radius1", self.conv_radius1, 0, 8)
        _check_range("conv_radius2", self.conv_radius2, 0, 4)
        _check_range("conv_channels1", self.conv_channels1, 1, 32)
        _check_range("conv_channels2", self.conv_channels2, 1, 32)
        _check_range("num_lstm_layers", self.num_lstm_layers, 0, 2)
        _check_range("lstm_units", self.lstm_units, 1, 64)
        _check_range("num_fc_layers", self.num_fc_layers, 1, 2)
        _check_range("fc_units", self.fc_units, 8, 64)

    @property
    def receptive_shrink(self) -> int:
        """How many window positions the valid convolutions remove."""
        return 2 * self.conv_radius1 + 2 * self.conv_radius2


@dataclass(frozen=True)
class PPOConfig:
    """stable-baselines3 PPO hyperparameters."""

    learning_rate: float = 5e-4
    """Adam step size."""
    batch_size: int = 32
    """Episodes collected per policy update (the paper's batch size); PPO's n_steps follows from it."""
    n_minibatches: int = 4
    """Minibatches each update's batch is split into."""
    n_epochs: int = 4
    """Passes over each batch per update."""
    entropy_coef: float = 1e-4
    """Entropy regularisation weight."""
    clip_range: float = 0.2
    """PPO's policy ratio clip."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    gamma: float = 1.0
    """Discount; the reward comes only at the episode's end, so 1 by default."""
    vf_coef: float = 0.5
    """Value loss weight."""
    max_grad_norm: float = 0.5
    """Gradient clipping norm."""
    n_envs: int = 4
    """Environments stepped together (one process; batches the policy's forward pass)."""

    def __post_init__(self) -> None:
        _check_types(self)
        _check_range("learning_rate", self.learning_rate, 1e-7, 1e-1)
        _check_range("batch_size", self.batch_size, 1, 4096)
        _check_range("n_minibatches", self.n_minibatches, 1, 256)
        _check_range("n_epochs", self.n_epochs, 1, 50)
        _check_range("entropy_coef", self.entropy_coef, 0, 1)
        _check_range("clip_range", self.clip_range, 0.01, 1)
        _check_range("gae_lambda", self.gae_lambda, 0, 1)
        _check_range("gamma", self.gamma, 0, 1)
        _check_range("vf_coef", self.vf_coef, 0, 10)
        _check_range("max_grad_norm", self.max_grad_norm, 0.01, 100)
        _check_range("n_envs", self.n_envs, 1, 256)

    def rollout_sizes(self, mean_decisions: float, n_envs: int | None = None) -> tuple[int, int]:
        """SB3's ``(n_steps, batch_size)`` for episodes of ``mean_decisions`` steps on average.

        ``n_envs`` overrides :attr:`n_envs` (meta-training steps one env per worker process).
        """
        n_envs = n_envs or self.n_envs
        total = max(2, math.ceil(self.batch_size * mean_decisions))
        n_steps = max(2, math.ceil(total / n_envs))
        while (n_steps * n_envs) % self.n_minibatches:  # equal minibatches, no truncated last one
            n_steps += 1
        minibatch = max(1, (n_steps * n_envs) // self.n_minibatches)
        return n_steps, minibatch


OBJECTIVES = ("ensemble-defect", "probability", "mixed", "gap")
#: How the search finishes a new closest design (``SearchConfig.finish``).
FINISHES = ("repair", "walk")


@dataclass(frozen=True)
class SearchConfig:
    """The ensemble-aware search of the ``hybrid`` and ``search`` modes (see :mod:`rnadesign.search.ensemble`)."""

    objective: str = "probability"
    """What the search minimises: ``probability``, -ln P(target) per site (SAMFEO's probability defect, on
    a scale that still tells long designs apart); ``ensemble-defect``, the normalised ensemble defect;
    ``mixed``, the MFE distance per site plus the ensemble defect; ``gap``, E(target) - E(MFE) per site
    plus the ensemble defect."""
    population: int = 10
    """Designs kept (the k best by the objective); parents are drawn from them."""
    parent_temperature: float = 0.3
    """Parents are drawn with weight exp(-(objective - best) / temperature): small is greedy. The objectives
    are per site, so 0.3 draws nearly uniformly from the population (0.03 and 0.01 measured no better,
    docs/design.md)."""
    site_floor: float = 0.02
    """Sites are drawn in proportion to their positional defect plus this (so no site is ever ruled out)."""
    neighbour_pair: float = 0.3
    """Chance that mutating a pair also re-draws a stacked neighbour pair (helix ends move together)."""
    bonus_hairpins: float = 0.0
    """Chance that a child takes, in place of a point mutation, one of the energy model's bonus hairpin
    loops (:func:`~rnadesign.model.folding.bonus_hairpins`: closing pair and loop, e.g. the tetraloop C UACG G)
    at one of the target's hairpins of that loop length, drawn by its positional defect. 0, the default,
    turns it off (0.1 measured no better on the benchmarks, docs/design.md)."""
    policy_designs: int = 32
    """Designs sampled from the policy to seed the population beside the designer's start (``hybrid``;
    reseeds take half as many)."""
    policy_prior: float = 0.5
    """``hybrid``: weight of the policy's action probabilities in the mutation priors (the designer's
    weights take the rest)."""
    policy_parts: bool = False
    """``hybrid``, a long target's start (``hierarchy``): its parts are designed as ``hybrid`` designs them,
    with the policy's priors and draws (False: as ``search`` does). Off: measured worse (docs/design.md)."""
    patience: int = 200
    """Steps without a better objective before the population is reseeded."""
    restart: str = "fresh"
    """On reseeding: ``fresh`` starts again from new designs (SAMFEO restarts so), ``best`` keeps the best."""
    boost: float = 4.0
    """How much likelier G and A are at a hairpin loop's first mismatch (1: no boost, and an all-A start)."""
    finish_share: float = 0.3
    """Adaptive walks (MFE folds only) from each design at least as close to the target as any walked from
    before start while they have had at most this share of the elapsed time, and stop at this share of
    the time limit; 0 turns them off."""
    finish: str = "repair"
    """How a new closest design is finished (within ``finish_share``): ``repair``, negative design against
    the decoys its folds have shown (:func:`~rnadesign.search.walk.decoy_repair`: changes screened by energy
    evaluation, only the best folded); ``walk``, LEARNA's adaptive walk (MFE folds at the mispaired sites)."""
    repair_loops: bool = True
    """``finish`` "repair": a hairpin near the miss may also take, as one change, one of the energy model's
    bonus hairpin loops of its length (closing pair and loop, e.g. C UACG G; docs/design.md, session 16)."""
    repair_interiors: bool = True
    """``finish`` "repair": an interior loop or bulge near the miss may also change as one unit, both closing
    pairs and the unpaired sites beside them (a lone pair closing one forms only so; session 17)."""
    lazy_defects: bool = True
    """With the ``probability`` objective, compute a design's pair probabilities (its positional defects)
    only when it is drawn as a parent: a child costs an MFE fold and a partition function without them."""
    hierarchy: int = 150
    """Targets at least this long that the designer's start does not fold into start from their parts'
    designs (:mod:`~rnadesign.search.hierarchy`; 0: never). Under constraints each part obeys its segment of them."""
    hierarchy_leaf: int = 100
    """Parts of at most this many sites are designed alone; longer ones are split and their halves' designs
    joined."""
    start_finish: float = 0.1
    """For a target that gets a hierarchical start: most of the time limit the designer's start's own finish
    takes before it (most long targets that start solves are solved within a second)."""
    hierarchy_share: float = 0.5
    """Most of the time limit the parts' designs take in all (each part in proportion to its length)."""
    adapt_rate: float | None = None
    """Online policy adaptation (:mod:`~rnadesign.search.adapt`): the step size of the per-target move policy's
    update toward each new best design; a restart then draws its fresh designs from that policy. 0 turns
    it off (the search draws by its priors alone). None, the default, is the mode's own
    (:attr:`~rnadesign.modes.Mode.search_defaults`): 0.5 in ``hybrid`` (measured in docs/design.md), 0 in
    ``search``, the designer without learning."""
    adapt_prior: float = 1.0
    """With adaptation: the weight of the log of the search's priors (the designer's weights, in ``hybrid``
    mixed with the policy's probabilities) beside the learned weights."""
    adapt_avoid: float | None = None
    """With adaptation: the step size of the push away from a lineage's best design, at the sites around its
    miss, when the lineage ended without bringing the best MFE distance down (0: none; None: 0.5 in ``hybrid``)."""

    def __post_init__(self) -> None:
        _check_types(self)
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        _check_range("population", self.population, 1, 1000)
        _check_range("parent_temperature", self.parent_temperature, 1e-4, 10)
        _check_range("site_floor", self.site_floor, 0, 1)
        _check_range("neighbour_pair", self.neighbour_pair, 0, 1)
        _check_range("bonus_hairpins", self.bonus_hairpins, 0, 1)
        _check_range("policy_designs", self.policy_designs, 1, 10000)
        _check_range("policy_prior", self.policy_prior, 0, 1)
        _check_range("patience", self.patience, 1, 10**6)
        if self.restart not in ("fresh", "best"):
            raise ConfigError(f"restart must be 'fresh' or 'best', got {self.restart!r}")
        _check_range("boost", self.boost, 1, 100)
        _check_range("finish_share", self.finish_share, 0, 0.95)
        if self.hierarchy != 0:
            _check_range("hierarchy", self.hierarchy, 20, 10**6)
        _check_range("hierarchy_leaf", self.hierarchy_leaf, 10, 10**6)
        _check_range("hierarchy_share", self.hierarchy_share, 0, 0.9)
        _check_range("start_finish", self.start_finish, 0, 0.95)
        if self.adapt_rate is not None:
            _check_range("adapt_rate", self.adapt_rate, 0, 10)
        _check_range("adapt_prior", self.adapt_prior, 0, 10)
        if self.adapt_avoid is not None:
            _check_range("adapt_avoid", self.adapt_avoid, 0, 10)
        if self.finish not in FINISHES:
            raise ConfigError(f"finish must be one of {', '.join(FINISHES)}, got {self.finish!r}")


@dataclass(frozen=True)
class AgentConfig:
    """Everything that defines a designer: state/reward, network and training."""

    env: EnvConfig = field(default_factory=EnvConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    name: str = "custom"
    """Where the configuration came from (a preset name or a file)."""

    def __post_init__(self) -> None:
        if self.env.window - self.network.receptive_shrink < 1:
            raise ConfigError(
                f"state window {self.env.window} (state_radius {self.env.state_radius}) is narrower than "
                f"the convolutions need ({self.network.receptive_shrink + 1}); raise state_radius or "
                "shrink the conv radii"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str = "custom") -> AgentConfig:
        """Build from a nested mapping ``{"env": {...}, "network": {...}, "ppo": {...}}``.

        Missing keys take their defaults; unknown keys are an error (a typo must not pass silently).
        """
        if not isinstance(data, dict):
            raise ConfigError(f"{name}: expected a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - {"env", "network", "ppo", "name", "folding", "description"})
        if unknown:
            raise ConfigError(f"{name}: unknown section(s) {', '.join(unknown)}; expected env, network, ppo")
        return cls(
            env=_from_dict(EnvConfig, data.get("env", {}), f"{name}: env"),
            network=_from_dict(NetworkConfig, data.get("network", {}), f"{name}: network"),
            ppo=_from_dict(PPOConfig, data.get("ppo", {}), f"{name}: ppo"),
            name=data.get("name", name),
        )


#: The paper's best configurations (docs/design.md, "Final configurations and presets"), as data.
#: PPO-only settings the paper had no counterpart for are ours; the paper's batch size counts
#: episodes per update, as here.
PRESETS: dict[str, dict[str, Any]] = {
    "learna": {
        "description": "LEARNA (ICLR 2019): learns on the one target from scratch",
        "env": {"state_radius": 32, "reward_exponent": 9.34, "mutation_threshold": 5},
        "network": {
            "embedding_size": 3,
            "conv_radius1": 8,
            "conv_channels1": 7,
            "conv_radius2": 2,
            "conv_channels2": 18,
            "num_lstm_layers": 1,
            "lstm_units": 28,
            "num_fc_layers": 1,
            "fc_units": 57,
        },
        "ppo": {"learning_rate": 5.99e-4, "batch_size": 126, "entropy_coef": 6.76e-5},
    },
    "learna-fast": {
        "description": "LEARNA's network without the LSTM, updated every 16 episodes from 16 envs: "
        "our measured default for the learna mode (scripts/measure/learna_taneda.py)",
        "env": {"state_radius": 32, "reward_exponent": 9.34, "mutation_threshold": 5},
        "network": {
            "embedding_size": 3,
            "conv_radius1": 8,
            "conv_channels1": 7,
            "conv_radius2": 2,
            "conv_channels2": 18,
            "num_lstm_layers": 0,
            "num_fc_layers": 1,
            "fc_units": 57,
        },
        "ppo": {"learning_rate": 5.99e-4, "batch_size": 16, "n_envs": 16, "entropy_coef": 6.76e-5},
    },
    "meta-learna": {
        "description": "Meta-LEARNA (ICLR 2019): meta-trained across many structures",
        "env": {"state_radius": 29, "reward_exponent": 8.93, "mutation_threshold": 5},
        "network": {
            "embedding_size": 2,
            "conv_radius1": 5,
            "conv_channels1": 10,
            "conv_radius2": 1,
            "conv_channels2": 3,
            "num_lstm_layers": 0,
            "num_fc_layers": 1,
            "fc_units": 52,
        },
        "ppo": {"learning_rate": 6.44e-5, "batch_size": 123, "entropy_coef": 1.51e-4},
    },
}


def load_agent_config(preset_or_path: str | Path) -> AgentConfig:
    """Load a preset by name (see :data:`PRESETS`) or a JSON file of the same shape.

    Raises:
        ConfigError: unknown preset, unreadable or malformed file, or invalid values.
    """
    key = str(preset_or_path)
    if key in PRESETS:
        return AgentConfig.from_dict(PRESETS[key], name=key)
    path = Path(key)
    if not path.suffix and not path.exists():
        raise ConfigError(f"unknown preset {key!r}; choose one of {', '.join(PRESETS)} or give a JSON file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read configuration ({err})") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
    if isinstance(data, dict) and "agent" in data:  # a file that also carries folding or search metadata
        data = data["agent"]
    try:
        return AgentConfig.from_dict(data, name=path.name)
    except TypeError as err:  # a value of the wrong type reaching a dataclass
        raise ConfigError(f"{path}: {err}") from None


def load_search_config(text_or_path: str | Path) -> SearchConfig:
    """A :class:`SearchConfig` from a JSON object given inline (``'{"population": 20}'``) or in a file.

    Raises:
        ConfigError: unreadable file, malformed JSON, unknown fields or invalid values.
    """
    text = str(text_or_path)
    if not text.lstrip().startswith("{"):
        path = Path(text)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such search configuration file (or give a JSON object)") from None
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: cannot read search configuration ({err})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"search configuration: not valid JSON ({err.msg} at line {err.lineno})") from None
    if isinstance(data, dict) and "search_config" in data:  # written by autorl best --export of a hybrid search
        data = data["search_config"]
    return _from_dict(SearchConfig, data, "search configuration")
