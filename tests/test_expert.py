"""Expert iteration: the examples are the environment's observations, the labels its actions, and a
killed leg resumes from what it saved."""

import numpy as np
import RNA

from rnadesign.expert import (
    ExpertSettings,
    _hard,
    _round_structures,
    decision_labels,
    decision_windows,
    expert_iteration,
    fit_policy,
    sampled_solved,
    training_set,
)
from rnadesign.files import read_json_lines
from rnadesign.model.structure import parse_structure
from rnadesign.rl.env import PAIR_ACTIONS, UNPAIRED_ACTIONS, RnaDesignEnv
from rnadesign.rl.policy_file import default_policy_path, load_policy

TARGETS = ("((((....))))", "(((....)))..((((....))))", "((((((....))))))", "...(((((....)))))...", "((((...))))")


def test_windows_are_the_environments_observations_and_labels_its_actions():
    policy = load_policy(default_policy_path())
    target = parse_structure("..((((..((...))..))))....(((...)))")
    env = RnaDesignEnv([target], policy.agent.env)
    observation, _ = env.reset(seed=0)
    windows = decision_windows(target, policy.agent)
    actions = [1, 0, 2, 3, 1, 0, 0, 2, 1, 3, 2, 0, 1, 1, 0, 2, 3, 2, 0, 1, 0, 3, 2, 1, 0, 0, 1, 2]
    for k in range(target.n_decisions):
        np.testing.assert_array_equal(windows[k], observation)
        observation, _, terminated, _, info = env.step(actions[k])
    assert terminated and len(windows) == target.n_decisions
    # the labels of the placed design are the actions that placed it
    np.testing.assert_array_equal(decision_labels(target, info["sequence"]), actions[: target.n_decisions])
    assert "".join(UNPAIRED_ACTIONS) == "GAUC" and ["".join(p) for p in PAIR_ACTIONS] == ["GC", "CG", "AU", "UA"]
    # a G-U pair has no action: no label
    assert decision_labels(parse_structure("((....))"), "GGAAAAUC").tolist() == [0, -1, 1, 1, 1, 1]


def test_training_makes_the_policy_propose_the_designs_it_was_shown():
    policy = load_policy(default_policy_path())
    target = parse_structure("((((((....))))))")
    design = "CGCGCGUUCGCGCGCG"  # UUCG where the shipped policy would rather not put it
    windows = decision_windows(target, policy.agent)
    labels = decision_labels(target, design)
    weights, loss = fit_policy(policy.agent, policy.state_dict, windows, labels, 60, 1e-2, 16, seed=0)
    assert set(weights) == set(policy.state_dict) and loss < 0.5
    from rnadesign.rl.numpy_policy import NumpyPolicy

    chosen = NumpyPolicy(policy.agent, weights).probabilities(windows).argmax(axis=1)
    np.testing.assert_array_equal(chosen, labels)
    score = sampled_solved(policy.agent, weights, [target], samples=4, seed=0)
    assert score["solved"] == 1 and RNA.fold(design)[0] == target.dot_bracket


def test_a_killed_leg_resumes_without_designing_anything_twice(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("\n".join(TARGETS) + "\n")
    # four targets of 12 nt or more, two a round: set for three rounds, the run ends after two (a third
    # would only train on the same designs again)
    settings = ExpertSettings(
        rounds=3,
        structures_per_round=2,
        min_length=12,
        time_limit=1,
        epochs=1,
        validation_targets=3,
        samples=2,
        batch_size=64,
    )
    out = tmp_path / "run"
    # a budget spent before round 0's first design is done: the leg stops, as a kill would leave it
    first = expert_iteration(out, train, train, default_policy_path(), settings, time_budget=0.0)
    assert first == default_policy_path() and not (out / "round-0.safetensors").exists()
    final = expert_iteration(out, train, train, default_policy_path(), settings, resume=True)
    assert final == out / "round-1.safetensors"
    designs = read_json_lines(out / "designs.jsonl")
    keys = [(d["round"], d["index"]) for d in designs]
    assert len(keys) == len(set(keys)) == 4
    for d in designs:
        if d["solved"]:
            assert RNA.fold(d["sequence"])[0] == d["target"]
    rounds = [r["round"] for r in read_json_lines(out / "rounds.jsonl")]
    assert rounds == [-1, 0, 1]
    card = load_policy(final).card
    assert card["rounds"] == 2 and card["designs"] == 4
    # a finished run resumed does nothing more
    assert expert_iteration(out, train, train, default_policy_path(), settings, resume=True) == final
    assert len(read_json_lines(out / "designs.jsonl")) == 4
    # a run recorded before the hard-mining settings existed resumes: it ran with their defaults
    import json

    recorded = json.loads((out / "settings.json").read_text())
    for name in ("hard_after", "hard_weight", "hard_length_exponent", "replay"):
        del recorded[name]
    (out / "settings.json").write_text(json.dumps(recorded))
    assert expert_iteration(out, train, train, default_policy_path(), settings, resume=True) == final


def test_the_shipped_expert_policy_loads_by_name_and_designs():
    policy = load_policy("expert")
    assert policy.card["method"].startswith("expert iteration") and policy.agent == load_policy("default").agent
    from rnadesign.design import DesignSettings, design

    target = "((((((...((((....))))...))))))"
    result = design(target, DesignSettings(mode="hybrid", time_limit=10, seed=1, policy="expert"))
    assert result.solved and RNA.fold(result.sequence)[0] == target


def test_hybrid_uses_the_expert_policy_unless_told_otherwise_and_the_others_the_ppo_one():
    from rnadesign.modes import get_mode

    assert get_mode("hybrid").resolve()[1].card["method"].startswith("expert iteration")
    assert "expert" not in get_mode("meta-learna").resolve()[1].card.get("method", "")
    assert get_mode("hybrid").resolve(policy="default")[1].card == load_policy(default_policy_path()).card


def test_a_run_kept_with_its_newest_round_only_resumes_after_it(tmp_path):
    """The checkout keeps ei-1 with round-17's policy alone: a resume starts at round 18, from that policy."""
    train = tmp_path / "train.txt"
    train.write_text("\n".join(TARGETS) + "\n")
    settings = ExpertSettings(
        rounds=3, structures_per_round=1, time_limit=1, epochs=1, validation_targets=2, samples=2, batch_size=64
    )
    out = tmp_path / "run"
    expert_iteration(out, train, train, default_policy_path(), settings)
    for k in (0, 1, 2):
        assert (out / f"round-{k}.safetensors").exists()
    (out / "round-0.safetensors").unlink()
    (out / "round-2.safetensors").unlink()  # as if killed before round 2 ended
    lines = [r for r in read_json_lines(out / "designs.jsonl") if r["round"] < 2]
    (out / "designs.jsonl").write_text("".join(__import__("json").dumps(r) + "\n" for r in lines))
    final = expert_iteration(out, train, train, default_policy_path(), settings, resume=True)
    assert final == out / "round-2.safetensors" and not (out / "round-0.safetensors").exists()
    assert [r["round"] for r in read_json_lines(out / "designs.jsonl")] == [0, 1, 2]


def test_hard_mining_learns_the_slow_designs_weighted_and_the_replay(tmp_path):
    policy = load_policy(default_policy_path())
    quick = {"solved": True, "time_s": 0.1, "target": "((((....))))", "sequence": "GGGGAAAACCCC"}
    slow = {"solved": True, "time_s": 3.0, "target": "((((((....))))))", "sequence": "CGCGCGUUCGCGCGCG"}
    failed = {"solved": False, "time_s": 5.0, "target": "((....))", "sequence": "GGAAAACC"}
    replayed = {"solved": True, "time_s": 0.01, "target": "(((...)))", "sequence": "GGGAAACCC"}
    everything = ExpertSettings()
    _, labels = training_set([quick, slow, failed], [], everything, policy.agent)
    assert len(labels) == 8 + 10  # every solved design once (a decision per pair or unpaired site)
    hard = ExpertSettings(hard_after=1.0, hard_weight=3)
    windows, labels = training_set([quick, slow, failed], [replayed], hard, policy.agent)
    slow_labels = decision_labels(parse_structure(slow["target"]), slow["sequence"])
    replay_labels = decision_labels(parse_structure(replayed["target"]), replayed["sequence"])
    np.testing.assert_array_equal(labels, np.concatenate([slow_labels] * 3 + [replay_labels]))
    assert len(windows) == len(labels)
    # a replay file that is not there is named before any design runs
    import pytest

    from rnadesign.errors import ConfigError

    train = tmp_path / "train.txt"
    train.write_text("((((....))))\n")
    with pytest.raises(ConfigError, match="replay"):
        expert_iteration(
            tmp_path / "run", train, train, default_policy_path(), ExpertSettings(replay=str(tmp_path / "none.jsonl"))
        )
    assert not (tmp_path / "run").exists()  # nothing written: the same command runs once the file is there
    with pytest.raises(ConfigError, match="hard_after"):
        ExpertSettings(hard_after=5.0, time_limit=5.0)
    # scaled to the length: 0.1 s at 100 nt is 0.0008 s at 20 nt and 0.8 s at 200 nt (exponent 3)
    scaled = ExpertSettings(hard_after=0.1, hard_length_exponent=3)
    short_slow = {"solved": True, "time_s": 0.01, "target": "(((((....)))))......", "sequence": "G" * 20}
    long_quick = {"solved": True, "time_s": 0.5, "target": "." * 200, "sequence": "A" * 200}
    assert _hard(short_slow, scaled) and not _hard(long_quick, scaled)
    assert not _hard(short_slow, hard) and not _hard(long_quick, hard)
    with pytest.raises(ConfigError, match="hard_length_exponent"):
        ExpertSettings(hard_length_exponent=-1)
    with pytest.raises(ConfigError, match="min_length"):
        ExpertSettings(min_length=200, max_length=150)
    picked = _round_structures(["((...))", "((((....))))", "(((((.....)))))"], ExpertSettings(min_length=10), 0)
    assert [s for _, s in picked] == ["((((....))))", "(((((.....)))))"]


def test_a_round_designed_by_two_processes_records_each_structure_once(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("\n".join(TARGETS) + "\n")
    settings = ExpertSettings(
        rounds=1, structures_per_round=4, time_limit=1, epochs=1, validation_targets=2, samples=2, batch_size=64
    )
    final = expert_iteration(tmp_path / "run", train, train, default_policy_path(), settings, jobs=2)
    assert final == tmp_path / "run" / "round-0.safetensors"
    designs = read_json_lines(tmp_path / "run" / "designs.jsonl")
    assert sorted(d["index"] for d in designs) == sorted(i for i, _ in _round_structures(TARGETS, settings, 0))
    for d in designs:
        if d["solved"]:
            assert RNA.fold(d["sequence"])[0] == d["target"]
