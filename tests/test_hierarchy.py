"""Hierarchical starts: the parts are structures of their own, each is designed to fold alone, and the
composed start keeps every pair and keeps to its share of the time. Whether it helps is measured by the
benchmark (README), not here."""

import time

import numpy as np
import pytest

from rnadesign.config import SearchConfig
from rnadesign.design import DesignSettings
from rnadesign.errors import ConfigError
from rnadesign.model.alphabet import PAIRS
from rnadesign.model.constraints import DesignConstraints
from rnadesign.model.folding import fold
from rnadesign.model.structure import parse_structure
from rnadesign.run.state import DesignRun
from rnadesign.search.ensemble import EnsembleSearch, designer_start
from rnadesign.search.hierarchy import applies, hierarchical_start, parts, plan, policy_draws


@pytest.mark.parametrize("puzzle", [73, 76, 90, 96])
def test_parts_are_structures_of_their_own_no_longer_than_a_leaf(puzzle, eterna):
    target = eterna(puzzle)
    found = parts(target, 100)
    assert len(found) > 1 and applies(target, SearchConfig())
    assert found == sorted(found)
    for (_, hi), (next_lo, _) in zip(found, found[1:]):
        assert hi <= next_lo  # disjoint
    for lo, hi in found:
        assert 0 < hi - lo <= 100 and "(" in target.dot_bracket[lo:hi]
        for site in range(lo, hi):  # no pair leaves its part: the slice is a structure of its own
            assert target.pairs[site] == -1 or lo <= target.pairs[site] < hi
        parse_structure(target.dot_bracket[lo:hi], warn=False)


def test_short_targets_and_single_parts_are_designed_whole():
    assert not applies(parse_structure("((((....))))" * 20), SearchConfig(hierarchy=0))
    assert not applies(parse_structure("((((....))))" * 10), SearchConfig())  # 120 nt, under 150
    one = parse_structure("(((((" + "((((....))))...." * 10 + ")))))")  # a helix around one leaf of 160
    assert not applies(one, SearchConfig(hierarchy_leaf=200))
    with pytest.raises(ConfigError, match="hierarchy_share"):
        SearchConfig(hierarchy_share=1.5)
    with pytest.raises(ConfigError, match="hierarchy_time must be one of length, left"):
        SearchConfig(hierarchy_time="even")


def test_a_hierarchical_start_keeps_pairs_counts_folds_and_keeps_to_its_share(eterna):
    target = eterna(76)  # 393 nt, five copies of one 65 nt module
    config = SearchConfig(hierarchy_share=0.3)
    run = DesignRun(target, DesignSettings(mode="search", time_limit=10, seed=1), seed=1)
    start = designer_start(target, run.rng)
    began = time.perf_counter()
    composed = hierarchical_start(run, config, start)
    assert time.perf_counter() - began < 0.3 * 10 + 0.5
    assert len(composed) == len(target) and run.folds > 0
    for i, j in enumerate(target.pairs):
        if i < j:
            assert composed[i] + composed[j] in PAIRS


def test_every_step_gets_at_least_its_length_s_share_of_the_parts_time(eterna, monkeypatch):
    """#76's 17 steps (parts and joins) cover 6.7 times its sites: shares of the whole budget by length (the
    default, ``hierarchy_time`` "length") run out after the first steps and leave the last ones hundredths
    of a second (session 28). With "left" each step gets the time left in proportion to its sites among the
    steps left, so at least its length's share of the budget even when every earlier step uses all of its own."""
    from rnadesign.search import hierarchy

    target = eterna(76)
    given: list[tuple[int, float]] = []
    part_run = hierarchy._part_run

    def spy(run, part, lo, settings):
        given.append((len(part), settings.time_limit))
        return part_run(run, part, lo, settings)

    monkeypatch.setattr(hierarchy, "_part_run", spy)
    run = DesignRun(target, DesignSettings(mode="search", time_limit=6, seed=1), seed=1)
    start = designer_start(target, run.rng)
    budget = 0.5 * 6
    began = time.perf_counter()
    hierarchical_start(run, SearchConfig(hierarchy_share=0.5, hierarchy_time="left"), start)
    assert time.perf_counter() - began < budget + 0.5  # what a step leaves goes to the later ones, no more
    steps = plan(target, SearchConfig().hierarchy_leaf)
    assert [n for n, _ in given] == [hi - lo for _, lo, hi in steps]
    sites = sum(n for n, _ in given)
    assert sites > 6 * len(target)
    for n, seconds in given:
        assert seconds >= 0.7 * budget * n / sites, given


def test_the_parts_runs_take_their_fold_estimate_from_the_whole_run_without_timing_a_fold(eterna, monkeypatch):
    """Timing a fold for each part's run took 0.1-0.16 s at 200-350 nt, past the share of a late join."""
    target = eterna(76)
    run = DesignRun(target, DesignSettings(mode="search", time_limit=4, seed=1), seed=1)
    start = designer_start(target, run.rng)

    def timed_fold(*args, **kwargs):
        raise AssertionError("a part's run timed a fold of its own")

    monkeypatch.setattr("rnadesign.run.state.estimate_fold_seconds", timed_fold)
    composed = hierarchical_start(run, SearchConfig(hierarchy_share=0.3), start)
    assert len(composed) == len(target) and run.folds > 0


#: Eterna100-V2 #76's module (65 nt): the designer's start misfolds it, the search solves it within a second.
MODULE = "((((..(((....)))(((.((....))(((...)))((....)).)))(((....)))..))))"


def test_each_part_is_designed_to_fold_alone_and_the_root_is_left_to_the_search():
    target = parse_structure(MODULE + "..." + MODULE)  # two parts, the root their concatenation
    config = SearchConfig(hierarchy=100)
    assert parts(target, config.hierarchy_leaf) == [(0, 68), (68, 133)]  # cut where the second helix starts
    run = DesignRun(target, DesignSettings(mode="search", time_limit=30, seed=1), seed=1)
    start = designer_start(target, np.random.default_rng(1))
    assert fold(start[:65])[0] != MODULE  # the parts need a design of their own
    composed = hierarchical_start(run, config, start)
    assert fold(composed[:68])[0] == MODULE + "..." and fold(composed[68:])[0] == MODULE
    assert not run.solutions  # the parts' runs report nothing as the target's


def test_a_ladder_of_lone_pairs_deeper_than_python_recurses_is_still_cut():
    """4,803 nt of lone pairs across one-base bulges: 1,200 helices nested in each other (a RecursionError
    when each helix was a level of recursion)."""
    target = parse_structure("(." * 1200 + "..." + ".)" * 1200, warn=False)
    assert parts(target, 100) == [(2353, 2450)]  # the innermost 97 sites are the part; the rest are helices


def test_under_constraints_each_part_obeys_its_segment_of_them():
    """A mask that allows only A or C at unpaired sites (the designer's G at hairpin mismatches is out)
    and no wobble pairs: every site of the composition obeys it, and the parts still fold alone."""
    target = parse_structure(MODULE + "..." + MODULE)
    mask = "".join("M" if c == "." else "N" for c in target.dot_bracket)
    constraints = DesignConstraints(sequence=mask, allow_gu=False, gc_content=0.55, gc_tolerance=0.1)
    settings = DesignSettings(mode="search", time_limit=30, seed=1, constraints=constraints)
    run = DesignRun(target, settings, seed=1)
    start = designer_start(target, np.random.default_rng(1), constraints=run.constraints)
    composed = hierarchical_start(run, SearchConfig(hierarchy=100), start)
    assert all(b in "AC" for b, c in zip(composed, target.dot_bracket) if c == ".")
    assert all(composed[i] + composed[j] in ("GC", "CG", "AU", "UA") for i, j in enumerate(target.pairs) if i < j)
    assert fold(composed[:68])[0] == MODULE + "..." and fold(composed[68:])[0] == MODULE


def test_a_segment_of_constraints_is_its_part_of_the_mask_and_the_rest_unchanged():
    constraints = DesignConstraints(sequence="GGG*", gc_content=0.5, avoid=("AAAA",), allow_gu=False)
    assert constraints.segment(0, 5, 10) == DesignConstraints("GGGNN", 0.5, 0.05, ("AAAA",), False)
    assert constraints.segment(2, 6, 10).sequence == "GNNN"
    assert constraints.segment(3, 10, 10).sequence is None  # all N: no mask
    assert not DesignConstraints(sequence="GGG*").segment(3, 10, 10).active
    assert DesignConstraints(avoid=("GGGG",)).segment(3, 8, 10) == DesignConstraints(avoid=("GGGG",))


def _one_hot(target, design: str) -> tuple[np.ndarray, np.ndarray]:
    """Action probabilities that put all weight on ``design``'s choice at every site."""
    unpaired, pairs = np.zeros((len(target), 4)), np.zeros((len(target), len(PAIRS)))
    for i, j in enumerate(target.pairs):
        if j < 0:
            unpaired[i, "ACGU".index(design[i])] = 1
        elif i < j:
            pairs[i, PAIRS.index(design[i] + design[j])] = 1
    return unpaired, pairs


def test_policy_draws_follow_the_action_probabilities():
    target = parse_structure(MODULE)
    design = designer_start(target, np.random.default_rng(3))
    draws = policy_draws(target, _one_hot(target, design), 3, np.random.default_rng(0))
    assert draws == [design] * 3
    # Even weights: every choice turns up, and pairs stay pairs.
    even = (np.ones((len(target), 4)), np.ones((len(target), len(PAIRS))))
    many = policy_draws(target, even, 50, np.random.default_rng(0))
    assert {d[0] + d[-1] for d in many} == set(PAIRS)
    assert all(d[i] + d[j] in PAIRS for d in many for i, j in enumerate(target.pairs) if i < j)
    assert policy_draws(target, even, 0, np.random.default_rng(0)) == []


def test_with_the_policys_priors_each_part_alone_is_seeded_with_its_draws_and_joins_are_not(monkeypatch):
    """``hybrid``'s parts: the rows of the whole target's priors are the part's priors, and a part designed
    alone starts from the designer's start and draws from them; a join starts from its halves alone."""
    target = parse_structure(MODULE + "..." + MODULE + "..." + MODULE)
    design = designer_start(target, np.random.default_rng(5))
    priors = _one_hot(target, design)
    seeded: list[list[str]] = []
    original = EnsembleSearch.seed

    def recording(self, sequences):
        seeded.append(list(sequences))
        return original(self, sequences)

    monkeypatch.setattr(EnsembleSearch, "seed", recording)
    run = DesignRun(target, DesignSettings(mode="hybrid", time_limit=20, seed=1), seed=1)
    config = SearchConfig(hierarchy=100, policy_designs=4)
    steps = plan(target, config.hierarchy_leaf)
    hierarchical_start(run, config, designer_start(target, run.rng), priors)
    assert len(seeded) == len(steps)
    for (kind, lo, hi), sequences in zip(steps, seeded):
        if kind == "part":
            assert sequences[1:] == [design[lo:hi]] * 4
        else:
            assert len(sequences) == 1
