"""Every network option builds, matches its declared feature size and trains a few PPO steps."""

import dataclasses

import pytest
import torch

from rnadesign.config import AgentConfig, EnvConfig, NetworkConfig, PPOConfig, load_agent_config
from rnadesign.model.folding import DEFAULT_MODEL
from rnadesign.model.structure import parse_structure
from rnadesign.rl.agent import make_ppo
from rnadesign.rl.policies import RnaFeaturesExtractor

TARGET = parse_structure("((((((....))))))..((((....))))")
SMALL_PPO = PPOConfig(batch_size=2, n_envs=2, n_epochs=1, n_minibatches=2)

NETWORKS = {
    "plain-onehot": NetworkConfig(),
    "embedding": NetworkConfig(embedding_size=3),
    "conv1": NetworkConfig(conv_radius1=3, conv_channels1=5),
    "conv2-only": NetworkConfig(conv_radius2=2, conv_channels2=4),
    "conv1+conv2+embedding": NetworkConfig(
        embedding_size=2, conv_radius1=8, conv_channels1=7, conv_radius2=4, conv_channels2=18
    ),
    "lstm1": NetworkConfig(num_lstm_layers=1, lstm_units=8),
    "conv+lstm2": NetworkConfig(conv_radius1=2, num_lstm_layers=2, lstm_units=4),
    "fc2": NetworkConfig(num_fc_layers=2, fc_units=16),
}


@pytest.mark.parametrize("include_sequence", [False, True])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network_option_builds_and_trains(name, include_sequence):
    agent = AgentConfig(
        env=EnvConfig(state_radius=16, include_sequence=include_sequence), network=NETWORKS[name], ppo=SMALL_PPO
    )
    model = make_ppo([TARGET], agent, DEFAULT_MODEL, seed=0)
    extractor = model.policy.features_extractor
    assert isinstance(extractor, RnaFeaturesExtractor)
    obs = torch.as_tensor(model.env.reset(), dtype=torch.float32)
    assert extractor(obs).shape == (2, extractor.features_dim)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=model.n_steps * model.n_envs)
    after = list(model.policy.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after)), "PPO did not update the network"


@pytest.mark.parametrize("preset", ["learna", "meta-learna"])
def test_paper_presets_build(preset):
    agent = load_agent_config(preset)
    agent = dataclasses.replace(agent, ppo=SMALL_PPO)
    model = make_ppo([TARGET], agent, DEFAULT_MODEL, seed=0)
    dense = [agent.network.fc_units] * agent.network.num_fc_layers
    assert model.policy.net_arch == {"pi": dense, "vf": dense}
    model.learn(total_timesteps=model.n_steps * model.n_envs)


def test_observation_of_wrong_size_is_refused():
    import gymnasium as gym
    import numpy as np

    with pytest.raises(ValueError, match="does not split"):
        RnaFeaturesExtractor(gym.spaces.Box(0, 4, (9,), np.int64), NetworkConfig(), channels=2)


def test_training_leaves_no_sb3_log_folder(tmp_path, monkeypatch):
    """SB3 makes a log folder per model at learn() unless given a logger: thousands in /tmp after a benchmark."""
    logdir = tmp_path / "sb3"
    monkeypatch.setenv("SB3_LOGDIR", str(logdir))
    agent = AgentConfig(env=EnvConfig(state_radius=4), ppo=SMALL_PPO)
    model = make_ppo([TARGET], agent, DEFAULT_MODEL, seed=0)
    model.learn(total_timesteps=model.n_steps * model.n_envs)
    assert not logdir.exists()
