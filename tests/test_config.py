import json

import pytest

from rnadesign.config import PRESETS, AgentConfig, EnvConfig, NetworkConfig, PPOConfig, load_agent_config


def test_presets_hold_the_papers_best_configurations():
    learna = load_agent_config("learna")
    assert (learna.network.conv_radius1, learna.network.conv_radius2) == (8, 2)
    assert (learna.network.conv_channels1, learna.network.conv_channels2) == (7, 18)
    assert learna.network.embedding_size == 3
    assert (learna.network.num_lstm_layers, learna.network.lstm_units) == (1, 28)
    assert (learna.network.num_fc_layers, learna.network.fc_units) == (1, 57)
    assert learna.ppo.batch_size == 126 and learna.ppo.learning_rate == pytest.approx(5.99e-4)
    assert learna.ppo.entropy_coef == pytest.approx(6.76e-5)
    assert learna.env.reward_exponent == pytest.approx(9.34) and learna.env.state_radius == 32
    meta = load_agent_config("meta-learna")
    assert (meta.network.conv_radius1, meta.network.conv_radius2) == (5, 1)
    assert (meta.network.conv_channels1, meta.network.conv_channels2) == (10, 3)
    assert meta.network.embedding_size == 2 and meta.network.num_lstm_layers == 0
    assert meta.network.fc_units == 52 and meta.ppo.batch_size == 123
    assert meta.ppo.learning_rate == pytest.approx(6.44e-5) and meta.ppo.entropy_coef == pytest.approx(1.51e-4)
    assert meta.env.reward_exponent == pytest.approx(8.93) and meta.env.state_radius == 29


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_json(name, tmp_path):
    config = load_agent_config(name)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config.to_dict()))
    assert load_agent_config(path) == AgentConfig.from_dict(config.to_dict(), name="c.json")


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (EnvConfig, {"state_radius": -1}, "state_radius"),
        (EnvConfig, {"reward_exponent": 0}, "reward_exponent"),
        (NetworkConfig, {"embedding_size": 5}, "embedding_size"),
        (NetworkConfig, {"conv_radius1": 9}, "conv_radius1"),
        (NetworkConfig, {"num_lstm_layers": 3}, "num_lstm_layers"),
        (NetworkConfig, {"fc_units": 4}, "fc_units"),
        (PPOConfig, {"learning_rate": 0}, "learning_rate"),
        (PPOConfig, {"n_envs": 0}, "n_envs"),
    ],
)
def test_nonsense_values_are_refused(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_window_must_fit_the_convolutions():
    with pytest.raises(ValueError, match="narrower"):
        AgentConfig(env=EnvConfig(state_radius=3), network=NetworkConfig(conv_radius1=8))
    AgentConfig(env=EnvConfig(state_radius=8), network=NetworkConfig(conv_radius1=8))


def test_unknown_keys_and_bad_files(tmp_path):
    with pytest.raises(ValueError, match="unknown key.*learning_rat"):
        AgentConfig.from_dict({"ppo": {"learning_rat": 1e-3}})
    with pytest.raises(ValueError, match="unknown section"):
        AgentConfig.from_dict({"netwrok": {}})
    with pytest.raises(ValueError, match="unknown preset"):
        load_agent_config("learnaa")
    with pytest.raises(ValueError, match="no such configuration file"):
        load_agent_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_agent_config(bad)
    wrong_type = tmp_path / "wrong.json"
    wrong_type.write_text(json.dumps({"network": {"fc_units": "many"}}))
    with pytest.raises(ValueError):
        load_agent_config(wrong_type)


def test_rollout_sizes_count_episodes():
    ppo = PPOConfig(batch_size=10, n_envs=4, n_minibatches=2)
    n_steps, minibatch = ppo.rollout_sizes(mean_decisions=30)
    assert n_steps * 4 >= 300 and n_steps == 75
    assert minibatch == 150
