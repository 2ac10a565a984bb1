"""NumpyPolicy computes what the real SB3 policy computes, samples its distribution, and imports no torch."""

from __future__ import annotations

import ast
import dataclasses
import functools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from stable_baselines3.common.policies import ActorCriticPolicy

from rnadesign.config import AgentConfig, EnvConfig, NetworkConfig, load_agent_config
from rnadesign.rl import env as env_module
from rnadesign.rl import numpy_policy
from rnadesign.rl.env import RnaDesignEnv
from rnadesign.rl.numpy_policy import NumpyPolicy
from rnadesign.rl.policies import policy_kwargs
from rnadesign.rl.policy_file import default_policy_path, load_policy

TARGETS = [
    "((((....))))",
    "..((((((...((((....))))..((((.....))))....((((...))))..))))))....((((((.......))))))...",
]


def _agent(radius: int = 6, include_sequence: bool = False, **network) -> AgentConfig:
    return AgentConfig(
        env=EnvConfig(state_radius=radius, include_sequence=include_sequence), network=NetworkConfig(**network)
    )


def _random_networks(count: int, seed: int) -> dict[str, AgentConfig]:
    """Random points of NetworkConfig's whole range (small windows, so they stay quick)."""
    rng = np.random.default_rng(seed)
    agents = {}
    for n in range(count):
        conv_radius1, conv_radius2 = int(rng.integers(0, 4)), int(rng.integers(0, 3))
        network = NetworkConfig(
            embedding_size=int(rng.integers(0, 5)),
            conv_radius1=conv_radius1,
            conv_channels1=int(rng.integers(1, 9)),
            conv_radius2=conv_radius2,
            conv_channels2=int(rng.integers(1, 9)),
            num_lstm_layers=int(rng.integers(0, 3)),
            lstm_units=int(rng.integers(1, 9)),
            num_fc_layers=int(rng.integers(1, 3)),
            fc_units=int(rng.integers(8, 17)),
        )
        radius = conv_radius1 + conv_radius2 + int(rng.integers(0, 5))
        env = EnvConfig(state_radius=radius, include_sequence=bool(rng.integers(0, 2)))
        agents[f"random{n}"] = AgentConfig(env=env, network=network)
    return agents


AGENTS: dict[str, AgentConfig] = {
    "meta-learna": load_agent_config("meta-learna"),
    "learna-fast": load_agent_config("learna-fast"),
    "learna-lstm": load_agent_config("learna"),
    "onehot-conv": _agent(conv_radius1=2, conv_channels1=4),
    "onehot-plain": _agent(radius=3),
    "embedding-no-conv": _agent(embedding_size=2),
    "sequence-embedding": dataclasses.replace(
        load_agent_config("meta-learna"), env=EnvConfig(state_radius=29, include_sequence=True)
    ),
    "sequence-onehot": _agent(include_sequence=True, conv_radius1=1, conv_channels1=5),
    "two-convs": _agent(radius=8, embedding_size=3, conv_radius1=3, conv_channels1=6, conv_radius2=2, conv_channels2=5),
    "second-conv-only": _agent(conv_radius2=2, conv_channels2=4),
    "two-dense": _agent(embedding_size=2, conv_radius1=2, num_fc_layers=2, fc_units=24),
    "lstm-no-conv": _agent(num_lstm_layers=1, lstm_units=8),
    "conv-lstm2-sequence": _agent(
        include_sequence=True, embedding_size=2, conv_radius1=2, num_lstm_layers=2, lstm_units=6
    ),
    "window-of-one": _agent(radius=0),
    **_random_networks(6, seed=1),
}


@functools.cache
def _observations(env_config: EnvConfig) -> np.ndarray:
    """Every observation of random-action episodes on TARGETS (two per target)."""
    # No local improvement: it changes no observation, only spends folds.
    env = RnaDesignEnv(TARGETS, dataclasses.replace(env_config, mutation_threshold=0))
    rng = np.random.default_rng(0)
    rows = []
    for episode in range(2 * len(TARGETS)):
        obs, _ = env.reset(seed=episode, options={"target_index": episode % len(TARGETS)})
        done = False
        while not done:
            rows.append(obs)
            obs, _, done, _, _ = env.step(int(rng.integers(4)))
        rows.append(obs)  # the window past the end, which a policy never acts on but may be shown
    return np.array(rows)


class _NoOptimizer:
    """A sampling policy needs no optimizer (as in design.sampling_policy; Adam imports torch._dynamo)."""

    def __init__(self, params, lr: float, **kwargs):
        pass


def _sb3_policy(agent: AgentConfig, seed: int = 0, **extra) -> ActorCriticPolicy:
    """The real SB3 policy, with weights spread enough that the logits are far from uniform.

    SB3's own init scales the action head by 0.01, which leaves every logit near 0 and makes a
    comparison nearly vacuous; re-draw every parameter at a fan-in scale instead.
    """
    env = RnaDesignEnv(TARGETS[0], agent.env)
    torch.manual_seed(seed)
    kwargs = {**policy_kwargs(agent), **extra}
    policy = ActorCriticPolicy(
        env.observation_space, env.action_space, lambda _: 0.0, optimizer_class=_NoOptimizer, **kwargs
    )
    with torch.no_grad():
        for name, parameter in policy.named_parameters():
            if parameter.dim() == 1:  # a bias
                parameter.normal_(0.0, 0.3)
            else:
                gain = 3.0 if name.startswith("action_net") else 1.5
                parameter.normal_(0.0, gain / math.sqrt(math.prod(parameter.shape[1:])))
    policy.set_training_mode(False)
    return policy


def _torch_outputs(policy: ActorCriticPolicy, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(action_net output, Categorical's normalised logits) of the SB3 policy."""
    tensor = torch.as_tensor(obs)
    with torch.no_grad():
        features = policy.extract_features(tensor)
        if isinstance(features, tuple):  # an unshared extractor gives (policy, value) features
            features = features[0]
        raw = policy.action_net(policy.mlp_extractor.forward_actor(features))
        normalised = policy.get_distribution(tensor).distribution.logits
    return raw.double().numpy(), normalised.double().numpy()


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _assert_matches_torch(numpy: NumpyPolicy, policy: ActorCriticPolicy, obs: np.ndarray) -> None:
    raw, normalised = _torch_outputs(policy, obs)
    logits = numpy.logits(obs)
    assert logits.dtype == np.float64 and logits.shape == (len(obs), 4)
    scale = max(1.0, float(np.abs(raw).max()))
    np.testing.assert_allclose(logits, raw, rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(_log_softmax(logits), normalised, rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(numpy.probabilities(obs), np.exp(normalised), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_logits_match_the_sb3_policy(name):
    agent = AGENTS[name]
    assert NumpyPolicy.supports(agent)
    policy = _sb3_policy(agent)
    obs = _observations(agent.env)
    raw, _ = _torch_outputs(policy, obs)
    assert np.ptp(raw, axis=1).max() > 0.5, "logits nearly uniform: the comparison would prove little"
    _assert_matches_torch(NumpyPolicy(agent, policy.state_dict()), policy, obs)
    _assert_matches_torch(NumpyPolicy.from_torch_state_dict(agent, policy.state_dict()), policy, obs)


def test_shipped_pretrained_policy_matches():
    shipped = load_policy(default_policy_path())  # arrays or tensors, depending on the file's format
    policy = _sb3_policy(shipped.agent)
    policy.load_state_dict({k: torch.as_tensor(v) for k, v in shipped.state_dict.items()})
    obs = _observations(shipped.agent.env)
    _assert_matches_torch(NumpyPolicy(shipped.agent, shipped.state_dict), policy, obs)
    _assert_matches_torch(NumpyPolicy.from_torch_state_dict(shipped.agent, policy.state_dict()), policy, obs)


def test_unshared_features_extractor_uses_the_policy_branch():
    agent = AGENTS["two-convs"]
    policy = _sb3_policy(agent, share_features_extractor=False)
    state = policy.state_dict()
    vf = [k for k in state if k.startswith("vf_features_extractor.")]
    assert vf and not torch.equal(state[vf[0]], state[vf[0].replace("vf_", "pi_")])
    _assert_matches_torch(NumpyPolicy(agent, state), policy, _observations(agent.env))


def test_either_features_prefix_alone_is_enough():
    agent = AGENTS["meta-learna"]
    policy = _sb3_policy(agent)
    state = policy.state_dict()
    assert any(k.startswith("pi_features_extractor.") for k in state)
    obs = _observations(agent.env)
    expected = NumpyPolicy(agent, state).logits(obs)
    for keep in ("features_extractor.", "pi_features_extractor."):
        trimmed = {k: v for k, v in state.items() if "features_extractor." not in k or k.startswith(keep)}
        np.testing.assert_array_equal(NumpyPolicy(agent, trimmed).logits(obs), expected)
    # The value branch is not needed at all.
    policy_only = {
        k: v for k, v in state.items() if k.startswith(("features_extractor.", "mlp_extractor.policy", "action"))
    }
    np.testing.assert_array_equal(NumpyPolicy(agent, policy_only).logits(obs), expected)


def test_parameters_that_require_grad_convert():
    # named_parameters() holds live tensors (requires_grad) and names a shared extractor once.
    agent = AGENTS["conv-lstm2-sequence"]
    policy = _sb3_policy(agent)
    parameters = dict(policy.named_parameters())
    assert parameters["action_net.weight"].requires_grad
    _assert_matches_torch(NumpyPolicy.from_torch_state_dict(agent, parameters), policy, _observations(agent.env))
    _assert_matches_torch(NumpyPolicy(agent, parameters), policy, _observations(agent.env))


def test_observation_forms():
    agent = AGENTS["sequence-onehot"]
    numpy = NumpyPolicy(agent, _sb3_policy(agent).state_dict())
    obs = _observations(agent.env)
    batch = numpy.logits(obs)
    # One observation, no batch axis (BLAS may round a batch of one differently in the last bit).
    np.testing.assert_allclose(numpy.logits(obs[3]), batch[3], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(numpy.logits(obs.astype(np.float32)), batch)  # as SB3 casts them
    assert numpy.logits(obs[:0]).shape == (0, 4)
    assert numpy.sample(obs[:0], np.random.default_rng(0)).shape == (0,)
    assert numpy.sample(obs[3], np.random.default_rng(0)).shape == ()


def test_bad_observations_are_refused():
    agent = AGENTS["sequence-onehot"]
    numpy = NumpyPolicy(agent, _sb3_policy(agent).state_dict())
    obs = _observations(agent.env)
    with pytest.raises(ValueError, match="expected"):
        numpy.logits(obs[:, :-1])
    with pytest.raises(ValueError, match="expected"):
        numpy.logits(obs[None])
    bad = obs.copy()
    bad[0, 0] = 4  # the structure channel has codes 0..3 only
    with pytest.raises(ValueError, match="channel 0"):
        numpy.logits(bad)
    bad = obs.copy()
    bad[0, -1] = -1
    with pytest.raises(ValueError, match="channel 1"):
        numpy.logits(bad)


def _fixed_distribution_policy(probabilities: list[float]) -> NumpyPolicy:
    """A real meta-learna network whose action head ignores its input: logits = log(probabilities)."""
    agent = AGENTS["meta-learna"]
    state = {k: v.numpy().copy() for k, v in _sb3_policy(agent).state_dict().items()}
    state["action_net.weight"][:] = 0.0
    with np.errstate(divide="ignore"):
        state["action_net.bias"] = np.log(np.asarray(probabilities))
    return NumpyPolicy(agent, state)


def test_sampling_frequencies_match_the_softmax():
    agent = AGENTS["onehot-conv"]  # random weights whose distributions differ widely and leave no action rare
    numpy = NumpyPolicy(agent, _sb3_policy(agent).state_dict())
    obs = _observations(agent.env)
    probabilities = numpy.probabilities(obs)
    # Observations with distinct distributions that put at least 2% on every action.
    _, first = np.unique(probabilities.round(6), axis=0, return_index=True)
    picked = [int(i) for i in sorted(first) if probabilities[i].min() > 0.02][:6]
    assert len(picked) >= 3 and np.ptp(probabilities[picked], axis=0).max() > 0.1
    draws = 40_000
    actions = numpy.sample(np.repeat(obs[picked], draws, axis=0), np.random.default_rng(12345))
    assert actions.dtype == np.int64 and set(np.unique(actions)) <= {0, 1, 2, 3}
    counts = np.stack([np.bincount(a, minlength=4) for a in actions.reshape(len(picked), draws)])
    expected = probabilities[picked] * draws
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    dof = 3 * len(picked)
    assert chi2 < dof + 6 * math.sqrt(2 * dof), f"chi-square {chi2:.1f} with {dof} degrees of freedom"
    np.testing.assert_allclose(counts / draws, probabilities[picked], atol=0.01)


def test_sampling_is_reproducible_and_safe_at_the_extremes():
    agent = AGENTS["meta-learna"]
    numpy = NumpyPolicy(agent, _sb3_policy(agent).state_dict())
    obs = np.repeat(_observations(agent.env), 20, axis=0)
    first = numpy.sample(obs, np.random.default_rng(7))
    np.testing.assert_array_equal(numpy.sample(obs, np.random.default_rng(7)), first)
    assert not np.array_equal(numpy.sample(obs, np.random.default_rng(8)), first)

    # An impossible action is never drawn, and the others keep their shares.
    fixed = _fixed_distribution_policy([0.0, 0.2, 0.3, 0.5])
    few = _observations(agent.env)[:1]
    actions = fixed.sample(np.repeat(few, 50_000, axis=0), np.random.default_rng(0))
    counts = np.bincount(actions, minlength=4) / len(actions)
    assert counts[0] == 0
    np.testing.assert_allclose(counts, [0.0, 0.2, 0.3, 0.5], atol=0.01)

    # Huge logits neither overflow nor produce NaNs: the largest wins outright.
    state = {k: v.numpy().copy() for k, v in _sb3_policy(agent).state_dict().items()}
    state["action_net.weight"] *= 1e6
    huge = NumpyPolicy(agent, state)
    obs = _observations(agent.env)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is what softmax should do
        logits = huge.logits(obs)
        assert np.abs(logits).max() > 1e4
        probabilities = huge.probabilities(obs)
        actions = huge.sample(obs, np.random.default_rng(0))
    assert np.isfinite(probabilities).all()
    decided = np.sort(logits, axis=1)[:, -1] - np.sort(logits, axis=1)[:, -2] > 100  # runner-up has p < e^-100
    assert decided.any()
    np.testing.assert_array_equal(actions[decided], logits.argmax(axis=1)[decided])


def test_missing_key_is_named():
    agent = AGENTS["meta-learna"]
    state = _sb3_policy(agent).state_dict()
    for key in ("action_net.bias", "mlp_extractor.policy_net.0.weight"):
        trimmed = {k: v for k, v in state.items() if k != key}
        with pytest.raises(ValueError, match=key.replace(".", r"\.")):
            NumpyPolicy(agent, trimmed)
    trimmed = {k: v for k, v in state.items() if not k.endswith("layers.conv.2.bias")}
    with pytest.raises(ValueError, match=r"layers\.conv\.2\.bias"):
        NumpyPolicy(agent, trimmed)
    lstm = AGENTS["learna-lstm"]
    trimmed = {k: v for k, v in _sb3_policy(lstm).state_dict().items() if not k.endswith("bias_hh_l0")}
    with pytest.raises(ValueError, match="bias_hh_l0"):
        NumpyPolicy(lstm, trimmed)


def test_wrong_shape_is_named():
    agent = AGENTS["meta-learna"]
    state = dict(_sb3_policy(agent).state_dict())
    state["mlp_extractor.policy_net.0.weight"] = state["mlp_extractor.policy_net.0.weight"].T
    with pytest.raises(ValueError, match=r"mlp_extractor\.policy_net\.0\.weight.*shape"):
        NumpyPolicy(agent, state)
    # Weights of a network with other conv channels than the configuration says.
    other = dataclasses.replace(agent, network=dataclasses.replace(agent.network, conv_channels2=4))
    with pytest.raises(ValueError, match=r"conv\.2\.weight.*shape"):
        NumpyPolicy(other, _sb3_policy(agent).state_dict())


def test_weights_of_another_network_are_refused():
    # Two dense layers of equal width loaded as one: every shape a 1-layer net needs fits, so only
    # the left-over layer gives the mismatch away.
    two = AGENTS["two-dense"]
    one = dataclasses.replace(two, network=dataclasses.replace(two.network, num_fc_layers=1))
    with pytest.raises(ValueError, match=r"mlp_extractor\.policy_net\.2\.weight"):
        NumpyPolicy(one, _sb3_policy(two).state_dict())


@dataclasses.dataclass(frozen=True)
class _NetworkWithAnUnknownOption(NetworkConfig):
    attention_heads: int = 2


def test_supports_matches_what_is_implemented():
    for agent in AGENTS.values():
        assert NumpyPolicy.supports(agent)
    unknown = AgentConfig(env=EnvConfig(state_radius=4), network=_NetworkWithAnUnknownOption())
    assert not NumpyPolicy.supports(unknown)
    with pytest.raises(ValueError, match="does not implement"):
        NumpyPolicy(unknown, {})


def test_constants_mirror_the_env():
    assert numpy_policy.N_STRUCTURE_SYMBOLS == env_module.N_STRUCTURE_SYMBOLS
    assert numpy_policy.N_SEQUENCE_SYMBOLS == env_module.N_SEQUENCE_SYMBOLS
    env = RnaDesignEnv(TARGETS[0], EnvConfig(include_sequence=True))
    assert env.action_space.n == numpy_policy.N_ACTIONS
    assert env.observation_space.high.max() == numpy_policy.N_SEQUENCE_SYMBOLS - 1


HEAVY = ("torch", "stable_baselines3", "gymnasium")


def _heavy_modules_after(statement: str) -> list[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_pulls_in_no_torch():
    loaded = _heavy_modules_after("import rnadesign.rl.numpy_policy")
    assert "torch" not in loaded and "stable_baselines3" not in loaded
    # gymnasium may come only from the package's own __init__ (it registers the env id), never from this module.
    assert set(loaded) <= set(_heavy_modules_after("import rnadesign"))


def test_the_shipped_policy_samples_without_torch():
    # The point of the module: load the shipped policy, step the env and sample, torch never imported.
    statement = (
        "import numpy as np\n"
        "from rnadesign.rl.env import RnaDesignEnv\n"
        "from rnadesign.rl.numpy_policy import NumpyPolicy\n"
        "from rnadesign.rl.policy_file import default_policy_path, load_policy\n"
        "shipped = load_policy(default_policy_path())\n"
        "env = RnaDesignEnv('((((....))))', shipped.agent.env)\n"
        "obs, _ = env.reset(seed=0)\n"
        "policy = NumpyPolicy(shipped.agent, shipped.state_dict)\n"
        "actions = policy.sample(np.stack([obs] * 16), np.random.default_rng(0))\n"
        "assert actions.shape == (16,)"
    )
    loaded = _heavy_modules_after(statement)
    assert "torch" not in loaded and "stable_baselines3" not in loaded


def test_module_imports_only_numpy_and_the_standard_library():
    tree = ast.parse(Path(numpy_policy.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add("." * node.level + (node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"numpy", "..config"}
    assert roots <= allowed, f"imports beyond numpy and the standard library: {sorted(roots - allowed)}"
