"""Policy networks: a stable-baselines3 features extractor with LEARNA's options.

Embedding (or one-hot) -> up to two valid conv1d layers -> optional LSTM along the window ->
flatten; SB3's policy adds the dense layers (``net_arch``) and the action/value heads.

One deliberate difference from the paper: its LSTM carried state across the steps of an
episode, which needs a recurrent PPO that runs ~8x slower here (see "Deliberate differences from
the paper" in docs/design.md). Ours runs along the positions of the state window instead;
``EnvConfig.include_sequence`` gives the policy the memory of earlier decisions that the carried
state provided.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from ..config import AgentConfig, NetworkConfig
from .env import N_SEQUENCE_SYMBOLS, N_STRUCTURE_SYMBOLS

__all__ = ["RnaFeaturesExtractor", "policy_kwargs"]


class RnaFeaturesExtractor(BaseFeaturesExtractor):
    """Features of an :class:`~rnadesign.rl.env.RnaDesignEnv` observation.

    Args:
        observation_space: the env's Box of integer codes, one or two channels of width 2r+1.
        network: which layers to build.
        channels: 1 (target symbols) or 2 (plus placed nucleotides).
    """

    def __init__(self, observation_space: gym.spaces.Box, network: NetworkConfig, channels: int = 1):
        if observation_space.shape[0] % channels:
            raise ValueError(f"observation of size {observation_space.shape[0]} does not split into {channels} rows")
        width = observation_space.shape[0] // channels
        vocabularies = [N_STRUCTURE_SYMBOLS, N_SEQUENCE_SYMBOLS][:channels]
        # SB3 needs features_dim at construction: build the layers first and measure their
        # output with a dummy forward pass, then register them.
        layers = _build_layers(network, vocabularies)
        with torch.no_grad():
            dummy = torch.zeros(1, channels * width)
            features_dim = _forward(layers, dummy, network, channels, width, vocabularies).shape[1]
        super().__init__(observation_space, features_dim)
        self.layers = layers
        self._network = network
        self._channels = channels
        self._width = width
        self._vocabularies = vocabularies

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return _forward(self.layers, observations, self._network, self._channels, self._width, self._vocabularies)


def _build_layers(network: NetworkConfig, vocabularies: list[int]) -> nn.ModuleDict:
    layers = nn.ModuleDict()
    if network.embedding_size:
        layers["embed"] = nn.ModuleList(nn.Embedding(v, network.embedding_size) for v in vocabularies)
        in_channels = network.embedding_size * len(vocabularies)
    else:
        in_channels = sum(vocabularies)
    convs = []
    for radius, channels in (
        (network.conv_radius1, network.conv_channels1),
        (network.conv_radius2, network.conv_channels2),
    ):
        if radius:
            convs += [nn.Conv1d(in_channels, channels, kernel_size=2 * radius + 1), nn.ReLU()]
            in_channels = channels
    layers["conv"] = nn.Sequential(*convs)
    if network.num_lstm_layers:
        layers["lstm"] = nn.LSTM(in_channels, network.lstm_units, num_layers=network.num_lstm_layers, batch_first=True)
    return layers


def _forward(
    layers: nn.ModuleDict,
    observations: torch.Tensor,
    network: NetworkConfig,
    channels: int,
    width: int,
    vocabularies: list[int],
) -> torch.Tensor:
    codes = observations.long().view(-1, channels, width)
    if network.embedding_size:
        parts = [embed(codes[:, c]) for c, embed in enumerate(layers["embed"])]
    else:
        parts = [nn.functional.one_hot(codes[:, c], v).float() for c, v in enumerate(vocabularies)]
    x = torch.cat(parts, dim=2).transpose(1, 2)  # (batch, features, positions)
    x = layers["conv"](x)
    if "lstm" in layers:
        x, _ = layers["lstm"](x.transpose(1, 2))  # (batch, positions, units)
    return x.flatten(1)


def policy_kwargs(agent: AgentConfig) -> dict[str, Any]:
    """``policy_kwargs`` for SB3's ``MlpPolicy`` that build the configured network."""
    dense = [agent.network.fc_units] * agent.network.num_fc_layers
    return {
        "features_extractor_class": RnaFeaturesExtractor,
        "features_extractor_kwargs": {
            "network": agent.network,
            "channels": 2 if agent.env.include_sequence else 1,
        },
        "net_arch": {"pi": dense, "vf": dense},
        "activation_fn": nn.ReLU,
    }
