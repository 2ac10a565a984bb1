"""Online policy adaptation: the move policy learns toward the elite, keeps to the constraints and the
deadline, and the designs it helps find refold."""

import time

import numpy as np
import pytest
import RNA

from rnadesign.config import SearchConfig
from rnadesign.design import DesignSettings, design
from rnadesign.model.alphabet import PAIRS
from rnadesign.model.constraints import DesignConstraints
from rnadesign.model.structure import parse_structure
from rnadesign.run.state import DesignRun
from rnadesign.search.adapt import UNPAIRED, MovePolicy
from rnadesign.search.ensemble import EnsembleSearch, designer_start

TARGET = "((((((..((((....))))..((((....))))..))))))..((((((....))))))"


def _policy(target, rate=1.0, **kwargs):
    length = len(target)
    return MovePolicy(target, np.full((length, 4), 0.25), np.full((length, 6), 1 / 6), rate, **kwargs)


def test_adapting_raises_the_probability_of_the_elites_moves_at_every_site_and_nothing_else():
    target = parse_structure(TARGET)
    policy = _policy(target)
    rng = np.random.default_rng(0)
    elite = policy.playout(rng)
    before_u = [policy.unpaired_probabilities(i)[UNPAIRED.index(elite[i])] for i in policy.loops]
    before_p = [policy.pair_probabilities(i)[PAIRS.index(elite[i] + elite[j])] for i, j in policy.pairs]
    policy.adapt(elite)
    after_u = [policy.unpaired_probabilities(i)[UNPAIRED.index(elite[i])] for i in policy.loops]
    after_p = [policy.pair_probabilities(i)[PAIRS.index(elite[i] + elite[j])] for i, j in policy.pairs]
    assert all(a > b for a, b in zip(after_u, before_u)) and all(a > b for a, b in zip(after_p, before_p))
    # NRPA's step: +rate on the chosen move, -rate * p on each (so the weights of a site sum to zero)
    assert np.allclose(policy.unpaired_w[policy.loops].sum(axis=1), 0)
    np.testing.assert_allclose(policy.unpaired_w[policy.loops[0], UNPAIRED.index(elite[policy.loops[0]])], 0.75)
    for _ in range(30):
        policy.adapt(elite)
    # after many steps the policy's playouts hold the elite's choice at nearly every site
    agreement = np.mean([[a == b for a, b in zip(policy.playout(rng), elite)] for _ in range(20)])
    assert agreement > 0.97
    rate_zero = _policy(target, rate=0.0)
    rate_zero.adapt(elite)
    assert not rate_zero.unpaired_w.any() and not rate_zero.pair_w.any()


def test_the_prior_is_the_policys_bias_and_a_zero_prior_stays_zero():
    target = parse_structure("((((....))))")
    unpaired = np.tile([6.0, 1, 2, 1], (12, 1))
    pairs = np.tile([16.0, 16, 9, 9, 0, 0], (12, 1))  # the network's prior gives GU/UG nothing
    policy = MovePolicy(target, unpaired, pairs, rate=1.0)
    np.testing.assert_allclose(policy.unpaired_probabilities(5), unpaired[5] / unpaired[5].sum())
    # an elite with G-U pairs at (0, 11) and (3, 8): the prior rules them out, so no step at those sites
    policy.adapt("GUGGAAAAUCAU")
    for i, _ in policy.pairs:
        assert policy.pair_probabilities(i)[4:].sum() == 0
    assert not policy.pair_w[0].any() and not policy.pair_w[3].any()  # the G-U sites left as they were
    assert policy.pair_w[1].any()
    flat = MovePolicy(target, unpaired, pairs, rate=1.0, prior_weight=0.0)  # beta 0: the prior is ignored
    np.testing.assert_allclose(flat.unpaired_probabilities(5), 0.25)


def test_playouts_and_adapted_mutations_keep_to_the_constraints():
    target = parse_structure(TARGET)
    mask = "GGNNNNAA" + "N" * (len(TARGET) - 8)
    constraints = DesignConstraints(sequence=mask, avoid=("GGGG",), allow_gu=False)
    run = DesignRun(target, DesignSettings(mode="search", time_limit=60, constraints=constraints), seed=4)
    search = EnsembleSearch(run, SearchConfig(adapt_rate=1.0))
    search.seed([designer_start(target, run.rng, constraints=run.constraints)])
    search.start_adaptation()
    for _ in range(20):
        playout = search.moves.playout(run.rng)
        assert all(b in run.constraints.allowed[i] for i, b in enumerate(playout))
        assert all(playout[i] + playout[j] in run.constraints.pair_options[(i, j)] for i, j in search.moves.pairs)
    parent = search.parent()
    for _ in range(40):
        child = search.mutate(parent)
        assert child is None or run.constraints.satisfied(child)


def test_adapted_designs_refold_and_the_deadline_holds():
    # Eterna100-V2 #66: solved in seconds, but not by the designer's start (so the loop runs and adapts)
    target = ".((.((.((..((.(...).)).))..))....))."
    for mode in ("search", "hybrid"):
        start = time.perf_counter()
        settings = DesignSettings(mode=mode, time_limit=2, seed=2, search=SearchConfig(adapt_rate=0.5))
        result = design(target, settings)
        assert time.perf_counter() - start < 2 + 1.0
        assert result.sequence and RNA.fold(result.sequence)[0] == result.structure
        assert result.solved == (result.structure == target)


def test_restarts_draw_their_designs_from_the_adapted_policy():
    target = parse_structure(".((.((.((..((.(...).)).))..))....)).", warn=False)
    run = DesignRun(target, DesignSettings(mode="search", time_limit=60, seed=1), seed=1)
    search = EnsembleSearch(run, SearchConfig(adapt_rate=2.0, patience=1))
    search.seed([designer_start(target, run.rng)])
    search.start_adaptation()
    best = search.population[0].sequence
    for _ in range(40):
        search.moves.adapt(best)
    # the adapted policy gives the elite's choice at every site nearly all its probability
    moves = search.moves
    assert min(moves.unpaired_probabilities(i)[UNPAIRED.index(best[i])] for i in moves.loops) > 0.98
    assert min(moves.pair_probabilities(i)[PAIRS.index(best[i] + best[j])] for i, j in moves.pairs) > 0.98
    fresh = []
    seed = search.seed
    search.seed = lambda sequences: (fresh.extend(sequences), seed(sequences))
    search._reseed()
    # the fresh designs are the policy's playouts: the elite at nearly every site (a draw, so on average)
    assert len(fresh) == SearchConfig().policy_designs // 2
    assert np.mean([[a == b for a, b in zip(f, best)] for f in fresh]) > 0.95
    assert search.moves.adaptations >= 40


def test_hybrid_adapts_by_default_and_search_does_not(monkeypatch):
    from rnadesign.benchmark.spec import BenchmarkSpec
    from rnadesign.modes import get_mode

    assert SearchConfig().adapt_rate is None  # the mode's own
    assert get_mode("hybrid").search_config(SearchConfig()).adapt_rate == 0.5
    assert get_mode("search").search_config(SearchConfig()).adapt_rate == 0.0
    assert get_mode("hybrid").search_config(SearchConfig(adapt_rate=0)).adapt_rate == 0.0  # asked for: kept
    # the push away from stale lineages likewise: hybrid's own 0.5, none in search
    assert SearchConfig().adapt_avoid is None
    assert get_mode("hybrid").search_config(SearchConfig()).adapt_avoid == 0.5
    assert get_mode("search").search_config(SearchConfig()).adapt_avoid == 0.0
    # a benchmark series records the value the designs ran with, so series of the two defaults stay apart
    for method, rate in (("hybrid", 0.5), ("search", 0.0)):
        assert BenchmarkSpec(method=method, time_limit=10).series()["search"]["adapt_rate"] == rate
        assert BenchmarkSpec(method=method, time_limit=10).series()["search"]["adapt_avoid"] == rate
    # and a design run gets it: hybrid's search builds its move policy (a target its start does not solve)
    target = parse_structure(".((.((.((..((.(...).)).))..))....)).", warn=False)
    seen = []
    original = EnsembleSearch.start_adaptation

    class Seen(Exception):
        pass

    def spy(self):
        original(self)
        seen.append((self.run.settings.mode, self.config.adapt_rate, self.moves is not None))
        raise Seen  # enough: the loop need not run

    monkeypatch.setattr(EnsembleSearch, "start_adaptation", spy)
    for mode in ("hybrid", "search"):
        with pytest.raises(Seen):
            design(target, DesignSettings(mode=mode, time_limit=10, seed=2))
    assert seen == [("hybrid", 0.5, True), ("search", 0.0, False)]


def test_a_stale_lineage_pushes_the_policy_away_from_its_choices_around_its_miss_only():
    """``avoid``: a restart after a lineage that did not bring the elite's MFE distance down lowers the
    probability of that lineage's best choices at the sites around its miss, and changes no other site."""
    from rnadesign.search.walk import miss_region

    target = parse_structure(TARGET)
    start = designer_start(target, np.random.default_rng(0))
    best = start[:44] + "A" + start[45:59] + "A"  # the last helix's outer pair A-A: its fold opens it
    structure = RNA.fold(best)[0]
    region = miss_region(structure, target, 1)
    assert structure != TARGET and 0 < len(region) < 10
    policy = _policy(target, avoid=0.5)
    policy.offer(best, 8, 0.5)  # the elite: its step toward it is the same at every site
    before_u, before_p = policy.unpaired_w.copy(), policy.pair_w.copy()
    assert not policy.restart(best, structure)  # the first lineage: the elite came down from none
    assert policy.restart(best, structure)  # the second did not bring it down: stale, a step away
    assert policy.avoided == 1
    changed_u = {i for i in policy.loops if not np.allclose(policy.unpaired_w[i], before_u[i])}
    changed_p = {i for i, _ in policy.pairs if not np.allclose(policy.pair_w[i], before_p[i])}
    near = {i for i in policy.loops if i in region}
    # (a pair the lineage did not make, A-A, is a choice the policy cannot make: no step there)
    near_pairs = {i for i, j in policy.pairs if (i in region or j in region) and best[i] + best[j] in PAIRS}
    assert near and changed_u == near and changed_p == near_pairs
    for i in near:  # the lineage's choice is less likely than the elite's step had made it
        assert policy.unpaired_w[i, UNPAIRED.index(best[i])] < before_u[i, UNPAIRED.index(best[i])]
    # a lineage that brought the distance down is not stale; without avoid nothing ever steps
    policy.offer(best[::-1], 4, 0.1)
    assert not policy.restart(best, structure) and policy.avoided == 1
    plain = _policy(target)
    plain.offer(best, 8, 0.5)
    weights = plain.unpaired_w.copy()
    assert not plain.restart(best, structure) and not plain.restart(best, structure)
    assert np.array_equal(plain.unpaired_w, weights) and plain.avoided == 0
