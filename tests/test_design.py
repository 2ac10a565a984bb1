"""Designs are accepted only after the test folds them itself."""

import time

import pytest

from rnadesign.config import DEFAULT_MODE
from rnadesign.design import DesignSettings, design
from rnadesign.folding import fold, is_unique_mfe

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
        DesignSettings(mode="magic")
    with pytest.raises(ValueError, match="time_limit"):
        DesignSettings(time_limit=0)
    with pytest.raises(ValueError, match="num_solutions"):
        DesignSettings(num_solutions=0)
