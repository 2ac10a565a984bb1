"""Designs are accepted only after the test folds them itself."""

import logging
import time

import pytest

from rnadesign.design import DesignSettings, design
from rnadesign.model.folding import fold, is_unique_mfe
from rnadesign.modes import DEFAULT_MODE

HAIRPIN = "((((((....))))))"


def test_learna_solves_a_hairpin_and_the_test_refolds_it():
    result = design(HAIRPIN, DesignSettings(mode="learna", time_limit=60, seed=1))
    assert result.solved
    assert fold(result.sequence)[0] == HAIRPIN
    assert result.structure == HAIRPIN and result.distance == 0
    assert result.unique_mfe == is_unique_mfe(result.sequence, HAIRPIN)
    assert result.seed == 1 and result.mode == "learna" and result.episodes >= 1
    assert result.time_s < 60


def test_several_distinct_solutions_each_refold():
    target = "((((....))))..((((....))))"
    result = design(target, DesignSettings(mode="learna", time_limit=90, seed=2, num_solutions=3))
    assert result.solved
    assert len(result.solutions) == 3 == len(set(result.solutions))
    for sequence in result.solutions:
        assert fold(sequence)[0] == target


def test_rfam_taneda_8_solved(taneda):
    target = taneda(8)  # 54 nt, the shortest Rfam-Taneda target
    result = design(target, DesignSettings(mode="learna", time_limit=120, seed=0))
    assert result.solved, f"best distance {result.distance}"
    assert fold(result.sequence)[0] == target


def test_unsolvable_target_returns_best_within_the_time_limit():
    target = "((((((((..))))))))"  # a 2-nt hairpin loop: no sequence folds into it
    with pytest.warns(UserWarning, match="hairpin"):
        start = time.perf_counter()
        result = design(target, DesignSettings(mode="learna", time_limit=4, seed=0, restart_timeout=1.5))
    elapsed = time.perf_counter() - start
    assert not result.solved and result.solutions == []
    assert result.sequence and fold(result.sequence)[0] == result.structure
    assert result.distance > 0
    assert result.restarts >= 1
    assert elapsed < 4 + 3  # one PPO update may finish after the deadline


def test_seed_is_drawn_and_reported_when_not_given():
    result = design("(((...)))", DesignSettings(time_limit=20))
    assert result.mode == DEFAULT_MODE and result.solved
    assert isinstance(result.seed, int)
    assert result.vienna_version


def test_settings_validation():
    with pytest.raises(ValueError, match="mode"):
        design("(((...)))", DesignSettings(mode="magic"))  # the registry checks it when the run starts
    with pytest.raises(ValueError, match="time_limit"):
        DesignSettings(time_limit=0)
    with pytest.raises(ValueError, match="num_solutions"):
        DesignSettings(num_solutions=0)
    with pytest.raises(ValueError, match="stall_restart"):
        DesignSettings(stall_restart=-1)


def test_a_slow_ppo_update_is_not_started_past_the_time_limit(taneda):
    """One update of this agent (LSTM along a 65-wide window, 10 epochs over one minibatch) takes many
    seconds; before the loop predicted it, a 5 s design ran 13 s past its limit."""
    from rnadesign.config import AgentConfig

    heavy = AgentConfig.from_dict(
        {
            "env": {"state_radius": 32},
            "network": {"embedding_size": 4, "conv_radius1": 4, "conv_channels1": 32, "num_lstm_layers": 2,
                        "lstm_units": 64, "num_fc_layers": 2, "fc_units": 64},
            "ppo": {"batch_size": 16, "n_envs": 16, "n_epochs": 10, "n_minibatches": 1},
        }
    )  # fmt: skip
    start = time.perf_counter()
    result = design(taneda(1), DesignSettings(mode="learna", time_limit=5, seed=0), heavy)
    assert time.perf_counter() - start < 5 + 4  # the margin covers the final refold and a loaded machine
    assert result.episodes >= 16 and len(result.sequence) == len(taneda(1))
    assert fold(result.sequence)[0] == result.structure


def test_update_estimate_leaves_no_gradients():
    from rnadesign.config import load_agent_config
    from rnadesign.model.folding import DEFAULT_MODEL
    from rnadesign.model.structure import parse_structure
    from rnadesign.rl.agent import make_ppo
    from rnadesign.runners.learning import estimate_update_s

    model = make_ppo([parse_structure(HAIRPIN)], load_agent_config("learna-fast"), DEFAULT_MODEL, seed=0)
    assert estimate_update_s(model) == 0.0  # nothing collected yet
    model.learn(total_timesteps=64)  # one rollout and its update
    assert estimate_update_s(model) > 0
    assert all(p.grad is None or not p.grad.any() for p in model.policy.parameters())


TWO_HAIRPINS = "..((((((....))))))....((((((....))))))..((((....)))).."


def _stall_callback(stall: float, tracker_best: int, agent_best: int, idle_s: float):
    from rnadesign.model.structure import parse_structure
    from rnadesign.run.state import DesignRun
    from rnadesign.runners.learning import DesignCallback

    now = time.perf_counter()
    tracker = DesignRun(parse_structure(TWO_HAIRPINS), DesignSettings(), seed=0, start=now)
    tracker.best_distance = tracker_best
    callback = DesignCallback(tracker, now + 60, stall=stall)
    callback.agent_best, callback.agent_best_at = agent_best, now - idle_s
    return callback


def test_stall_rule_stops_only_an_agent_stuck_worse_than_the_best_found():
    stuck = _stall_callback(stall=2, tracker_best=2, agent_best=9, idle_s=3)
    assert not stuck.check() and stuck.stalled
    at_the_frontier = _stall_callback(stall=2, tracker_best=2, agent_best=2, idle_s=30)
    assert at_the_frontier.check() and not at_the_frontier.stalled  # plateaus there may still end in a solution
    still_improving = _stall_callback(stall=2, tracker_best=2, agent_best=9, idle_s=1)
    assert still_improving.check()
    off = _stall_callback(stall=None, tracker_best=2, agent_best=9, idle_s=300)
    assert off.check()


def test_a_stalled_agent_is_restarted_and_the_reason_reported(caplog):
    """The tracker is told that search reached distance 0, which no agent can match on this target (a 2-nt
    hairpin loop cannot form), so every agent stalls 0.5 s after its own last improvement and is replaced."""
    from rnadesign.config import load_agent_config
    from rnadesign.model.structure import parse_structure
    from rnadesign.run.state import DesignRun
    from rnadesign.runners.learning import run_learning

    target = parse_structure("((((((((..))))))))...((((....))))", warn=False)
    settings = DesignSettings(
        mode="learna", time_limit=6, seed=0, refine_share=0, progress_every=1000, stall_restart=0.5
    )
    tracker = DesignRun(target, settings, seed=0)
    tracker.best_distance = 0
    with caplog.at_level(logging.INFO, logger="rnadesign"):
        run_learning(tracker, load_agent_config("learna-fast"))
    messages = [record.getMessage() for record in caplog.records]
    restarts = tracker.restarts
    assert restarts >= 1 and not tracker.solutions
    assert any("restart 1: the agent's designs stayed at distance" in m for m in messages), messages
