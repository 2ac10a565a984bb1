"""What defines a designer: the environment's state and reward (:class:`EnvConfig`), the policy network
(:class:`NetworkConfig`) and PPO's training hyperparameters (:class:`PPOConfig`), bundled in
:class:`AgentConfig`; the paper's best configurations as data (:data:`PRESETS`)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .checks import check_range, check_types, from_dict

__all__ = ["PRESETS", "AgentConfig", "EnvConfig", "NetworkConfig", "PPOConfig", "load_agent_config"]


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
        check_types(self)
        check_range("state_radius", self.state_radius, 0, 512)
        check_range("reward_exponent", self.reward_exponent, 0.01, 100)
        check_range("mutation_threshold", self.mutation_threshold, 0, 8)

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
        check_types(self)
        check_range("embedding_size", self.embedding_size, 0, 4)
        check_range("conv_radius1", self.conv_radius1, 0, 8)
        check_range("conv_radius2", self.conv_radius2, 0, 4)
        check_range("conv_channels1", self.conv_channels1, 1, 32)
        check_range("conv_channels2", self.conv_channels2, 1, 32)
        check_range("num_lstm_layers", self.num_lstm_layers, 0, 2)
        check_range("lstm_units", self.lstm_units, 1, 64)
        check_range("num_fc_layers", self.num_fc_layers, 1, 2)
        check_range("fc_units", self.fc_units, 8, 64)

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
        check_types(self)
        check_range("learning_rate", self.learning_rate, 1e-7, 1e-1)
        check_range("batch_size", self.batch_size, 1, 4096)
        check_range("n_minibatches", self.n_minibatches, 1, 256)
        check_range("n_epochs", self.n_epochs, 1, 50)
        check_range("entropy_coef", self.entropy_coef, 0, 1)
        check_range("clip_range", self.clip_range, 0.01, 1)
        check_range("gae_lambda", self.gae_lambda, 0, 1)
        check_range("gamma", self.gamma, 0, 1)
        check_range("vf_coef", self.vf_coef, 0, 10)
        check_range("max_grad_norm", self.max_grad_norm, 0.01, 100)
        check_range("n_envs", self.n_envs, 1, 256)

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
            env=from_dict(EnvConfig, data.get("env", {}), f"{name}: env"),
            network=from_dict(NetworkConfig, data.get("network", {}), f"{name}: network"),
            ppo=from_dict(PPOConfig, data.get("ppo", {}), f"{name}: ppo"),
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
