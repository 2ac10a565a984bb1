"""The environment, tested the way Gymnasium tests its own (tests/envs/test_envs.py)."""

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rnadesign  # noqa: F401  (registers the id)
from rnadesign.config import EnvConfig
from rnadesign.model.folding import fold, hamming
from rnadesign.rl.env import ENV_ID, PAIR_ACTIONS, RnaDesignEnv, local_improvement

TARGETS = ["((((....))))", "..(((...)))..((...))", "(((((......)))))...."]
COMPLEMENT = {"G": "C", "C": "G", "A": "U", "U": "A"}


@pytest.mark.parametrize("include_sequence", [False, True])
def test_checkers_pass_without_warnings(include_sequence):
    config = EnvConfig(state_radius=5, include_sequence=include_sequence)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(ENV_ID, targets=TARGETS, config=config)
        check_env(env.unwrapped)
        sb3_check_env(env.unwrapped, warn=True)


def _rollout(env, seed, actions_seed):
    rng = np.random.default_rng(actions_seed)
    trace = []
    obs, info = env.reset(seed=seed)
    trace.append((obs.tolist(), sorted(info.items())))
    for _ in range(4):  # several episodes: the target order must repeat as well
        done = False
        while not done:
            obs, reward, done, truncated, info = env.step(int(rng.integers(4)))
            assert not truncated
            trace.append((obs.tolist(), reward, sorted(info.items())))
        obs, info = env.reset()
        trace.append((obs.tolist(), sorted(info.items())))
    return trace


def test_same_seed_same_rollout():
    make = lambda: gym.make(ENV_ID, targets=TARGETS, config={"state_radius": 3, "include_sequence": True})  # noqa: E731
    assert _rollout(make(), 7, 1) == _rollout(make(), 7, 1)
    assert _rollout(make(), 7, 1) != _rollout(make(), 8, 1)  # the seed reaches the target order


def test_pickle_round_trip_mid_episode():
    env = RnaDesignEnv(TARGETS, EnvConfig(state_radius=4, include_sequence=True))
    env.reset(seed=3)
    env.step(0)
    env.step(2)
    clone = pickle.loads(pickle.dumps(env))
    for action in [1, 3, 0, 2, 1, 1, 0, 3, 2, 2, 1, 0, 3, 3, 0, 1, 2]:
        a, b = env.step(action), clone.step(action)
        assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]
        if a[2]:
            break


def test_pair_placement_and_episode_length():
    target = "..(((...)))..((...))"
    env = RnaDesignEnv(target, EnvConfig(state_radius=2, mutation_threshold=0))
    env.reset(seed=0)
    steps, done = 0, False
    while not done:
        _, reward, done, _, info = env.step(steps % 4)
        steps += 1
    assert steps == len(target) - target.count("(")
    sequence = info["sequence"]
    pairs = env.target.pairs
    for i, j in enumerate(pairs):
        if i < j:
            assert COMPLEMENT[sequence[i]] == sequence[j]
            assert (sequence[i], sequence[j]) in PAIR_ACTIONS


def test_terminal_info_refolds_and_reward_matches():
    env = RnaDesignEnv(TARGETS, EnvConfig(state_radius=4, reward_exponent=3.0))
    rng = np.random.default_rng(0)
    for episode in range(12):
        env.reset(seed=episode)
        done = False
        while not done:
            obs, reward, done, _, info = env.step(int(rng.integers(4)))
            assert env.observation_space.contains(obs)
        target = env.target.dot_bracket
        structure, _ = fold(info["sequence"])  # the test folds it itself
        assert structure == info["structure"]
        assert hamming(structure, target) == info["distance"]
        assert info["solved"] == (structure == target)
        assert info["distance"] <= info["distance_before_improvement"]
        assert reward == pytest.approx((1 - info["distance"] / len(target)) ** 3.0)


def test_local_improvement_keeps_the_improved_sequence():
    # The original LEARNA returned only the distance; the design must change with it.
    target = "((((((....))))))"
    sequence = "GGGGGGAAAACCCCCA"  # last base breaks the outer pair
    structure, _ = fold(sequence)
    distance = hamming(structure, target)
    assert 0 < distance < 5
    result = local_improvement(sequence, structure, target)
    assert result.distance < distance
    assert result.sequence != sequence
    refolded, _ = fold(result.sequence)
    assert refolded == result.structure
    assert hamming(refolded, target) == result.distance
    assert result.folds >= 1


def test_env_reports_improved_sequence():
    target = "((((((....))))))"
    env = RnaDesignEnv(target, EnvConfig(state_radius=2, mutation_threshold=5))
    improved = 0
    for seed in range(40):
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        done = False
        while not done:
            _, _, done, _, info = env.step(int(rng.integers(4)))
        assert fold(info["sequence"])[0] == info["structure"]
        improved += info["distance"] < info["distance_before_improvement"]
    assert improved > 0, "the local improvement step never helped in 40 random episodes"


def test_targets_in_random_permutation_epochs_and_explicit_choice():
    env = RnaDesignEnv(TARGETS, EnvConfig(state_radius=2))
    env.reset(seed=5)
    seen = [env.target.dot_bracket]
    for _ in range(len(TARGETS) - 1):
        env.reset()
        seen.append(env.target.dot_bracket)
    assert sorted(seen) == sorted(TARGETS)
    env.reset(options={"target_index": 1})
    assert env.target.dot_bracket == TARGETS[1]
    with pytest.raises(ValueError, match="out of range"):
        env.reset(options={"target_index": 9})


def test_observation_window_and_padding():
    env = RnaDesignEnv("(((...)))", EnvConfig(state_radius=2, include_sequence=True))
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [3, 3, 1, 1, 1] + [0, 0, 0, 0, 0]
    obs, *_ = env.step(0)  # GC pair at sites 0 and 8
    assert obs.tolist() == [3, 1, 1, 1, 0] + [0, 3, 0, 0, 0]  # site 1 centred; G (3) at site 0


def test_misuse_is_reported():
    env = RnaDesignEnv("((...))", EnvConfig(state_radius=1))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(4)
    for _ in range(5):  # 7 sites, 2 pairs
        env.step(0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    with pytest.raises(ValueError, match="at least one"):
        RnaDesignEnv([])
    with pytest.raises(ValueError, match="position"):
        RnaDesignEnv("((.)")


def test_render_ansi():
    env = RnaDesignEnv("((...))", EnvConfig(state_radius=1), render_mode="ansi")
    env.reset(seed=0)
    env.step(0)
    assert env.render() == "((...))\nG-----C\n"
