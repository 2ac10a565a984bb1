"""A time limit is a promise: every fold loop stops before a fold that would not fit, at any length."""

import time

import pytest

from rnadesign.design import BudgetTooSmallError, DesignSettings, design
from rnadesign.model.folding import fold
from rnadesign.rl.env import RnaDesignEnv, local_improvement
from rnadesign.run.clock import Deadline


def test_the_local_step_stops_at_the_deadline(taneda):
    """4 mismatched sites of a 451-nt design: 255 folds of ~0.2 s each (about a minute) without a deadline."""
    target = taneda(23)
    sequence = "".join("G" if c == "(" else "C" if c == ")" else "A" for c in target)
    unpaired = [i for i, c in enumerate(target) if c == "."][:4]
    structure = "".join("x" if i in unpaired else c for i, c in enumerate(target))  # the step sees 4 sites
    start = time.perf_counter()
    result = local_improvement(sequence, structure, target, deadline=Deadline(start + 0.5))
    assert time.perf_counter() - start < 1.0
    assert 0 < result.folds < 255


def test_an_episode_past_its_deadline_ends_unfolded_and_truncated():
    """The deadline is outside the MDP: Gymnasium calls such an end truncated, not terminated."""
    env = RnaDesignEnv("((((....))))", deadline=Deadline(time.perf_counter() - 1))
    env.reset(seed=0)
    terminated = truncated = False
    info = {}
    while not (terminated or truncated):
        _, reward, terminated, truncated, info = env.step(0)
    assert truncated and not terminated
    assert info["folded"] is False and info["folds"] == 0 and reward == 0.0


@pytest.mark.parametrize("mode", ["meta-learna", "rnainverse"])
def test_a_long_target_returns_within_a_second_of_its_limit(mode, taneda):
    start = time.perf_counter()
    result = design(taneda(23), DesignSettings(mode=mode, time_limit=3, seed=1))
    elapsed = time.perf_counter() - start
    assert elapsed < 3 + 1.0, elapsed
    if result.sequence:
        assert fold(result.sequence)[0] == result.structure


def test_a_budget_too_small_for_one_fold_is_refused_up_front():
    target = "((((((....))))))...." * 80  # 1,600 nt: one fold takes seconds
    start = time.perf_counter()
    with pytest.raises(BudgetTooSmallError, match="1600-nt target takes about"):
        design(target, DesignSettings(mode="meta-learna", time_limit=1, seed=1))
    assert time.perf_counter() - start < 1.5  # the estimate times a 400-nt fold, not a 1,600-nt one
