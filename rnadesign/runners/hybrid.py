"""The ``search`` and ``hybrid`` modes: the ensemble-aware search (:mod:`rnadesign.search.ensemble`) from a
designer's start, and in ``hybrid`` also from the pre-trained policy's designs, its action probabilities
mixed into the mutation priors. The one place the policy (:mod:`rnadesign.rl`) meets the search.
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np

from ..config import AgentConfig, SearchConfig
from ..model.alphabet import PAIRS
from ..model.structure import Structure
from ..rl.numpy_policy import NumpyPolicy
from ..rl.policy_file import PolicyFile
from ..run.state import DesignRun
from ..search import hierarchy
from ..search.ensemble import UNPAIRED, EnsembleSearch, designer_start
from ..search.start import first_style
from .sampling import policy_episodes

__all__ = ["lock_motifs", "policy_priors", "run_hybrid", "run_search", "seed_start"]

_log = logging.getLogger(__name__)


def policy_priors(target: Structure, agent: AgentConfig, network: NumpyPolicy) -> tuple[np.ndarray, np.ndarray] | None:
    """The policy's own action probabilities at every site, as mutation priors: per site, weights over
    ACGU (unpaired sites) and over :data:`PAIRS` (a pair's opening site; GU/UG get none, the policy never
    places them). None for a policy that sees the nucleotides placed (its choices depend on the design)."""
    from ..rl.env import PAIR_ACTIONS, UNPAIRED_ACTIONS, structure_windows

    if agent.env.include_sequence:
        return None
    probabilities = network.probabilities(structure_windows(target, agent.env))
    unpaired = np.zeros((len(target), len(UNPAIRED)))
    pairs = np.zeros((len(target), len(PAIRS)))
    sites = target.decision_sites()
    for site, p in zip(sites, probabilities):
        if target.pairs[site] == -1:
            for action, base in enumerate(UNPAIRED_ACTIONS):
                unpaired[site, UNPAIRED.index(base)] = p[action]
        else:
            for action, (a, b) in enumerate(PAIR_ACTIONS):
                pairs[site, PAIRS.index(a + b)] = p[action]
    return unpaired, pairs


def seed_start(
    search: EnsembleSearch,
    run: DesignRun,
    config: SearchConfig,
    priors: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Seed the search with the designer's start, finished. For a long target (``config.hierarchy``) that
    start's finish gets at most ``config.start_finish`` of the time limit, and if the target is still
    unsolved a start composed of its parts' designs follows
    (:func:`~rnadesign.search.hierarchy.hierarchical_start`; under constraints, repaired to them), finished in
    its turn whatever its distance. ``priors`` (``hybrid``): the policy's, for the parts' searches."""
    start = designer_start(run.target, run.rng, config.boost > 1, run.constraints, first_style(config.style))
    long = hierarchy.applies(run.target, config)
    if long:
        search.finish_cap = config.start_finish * run.settings.time_limit
    search.seed([start])
    search.finish_cap = None
    if not long or not search.population or run.should_stop():
        return
    composed = hierarchy.hierarchical_start(run, config, start, priors)
    if run.should_stop():
        return
    search.finish_best = math.inf  # a new lineage: finish it even if the start's finish got closer
    search.seed([composed])


def lock_motifs(run: DesignRun, config: SearchConfig) -> None:
    """With ``config.lock_motifs``, every design of the run (start, parts, policy draws, search, repair) sets
    each lone pair across a one-base bulge and its neighbourhood to the bases with which the target beats the
    motif's local decoys by the most (:func:`~rnadesign.model.fragile.motif_locks`): a sequence
    constraint added to the run's own (within them). Nothing changes for a target without such a motif. The
    witnesses' enumeration (0.3-0.6 s a motif at 380 nt) runs before the first design, outside the clock's
    fold estimates."""
    if not config.lock_motifs:
        return
    from ..model.constraints import ConstraintError, DesignConstraints
    from ..model.fragile import motif_locks

    bound = run.constraints
    allowed, options = (None, None) if bound is None else (bound.allowed, bound.pair_options)
    locks = motif_locks(run.target, run.settings.folding, allowed, options)
    if locks is None:
        return
    pattern, margins = locks
    try:
        locked = DesignConstraints.of_target(None if bound is None else bound.constraints, pattern)
        if locked is not None:  # always, a pattern being given
            run.constraints = locked.bind(run.target)
    except ConstraintError as error:  # the lock and the run's GC window or motifs cannot both hold
        _log.info("[%s] fragile motifs left unlocked: %s", run.name, error)
        return
    sites = sum(c != "N" for c in pattern)
    _log.info("[%s] %d fragile motif(s) locked (%d sites), margins %s kcal/mol", run.name, len(margins), sites, margins)


def run_search(run: DesignRun, agent: AgentConfig | None = None, policy: PolicyFile | None = None) -> None:
    """``search`` mode: the ensemble-aware search from a designer's start, no policy (an ablation)."""
    lock_motifs(run, run.settings.search)
    search = EnsembleSearch(run, run.settings.search)
    seed_start(search, run, run.settings.search)
    search.run_until_done()


def run_hybrid(run: DesignRun, agent: AgentConfig, policy: PolicyFile) -> None:
    """``hybrid`` mode: the policy's designs seed (and reseed) the ensemble-aware search."""
    config = run.settings.search
    lock_motifs(run, config)
    search = EnsembleSearch(run, config)
    # The policy's designs are proposals for the search, which spends the folds of the 4^k local step better.
    agent = dataclasses.replace(agent, env=dataclasses.replace(agent.env, mutation_threshold=0))
    network = NumpyPolicy(agent, policy.state_dict)  # one network for the priors and the designs
    # Its action probabilities at every site (one forward pass: 0.03 s at 400 nt) guide the whole target's
    # search, and with ``policy_parts`` the parts of a long target's start too (only then computed before it).
    parts = config.policy_parts
    priors = policy_priors(run.target, agent, network) if parts else None
    # The designer's start first, as in ``search``: on long targets its finish alone often solves them, and
    # the policy's designs of the whole target (an MFE fold each, then an evaluation) would take up to
    # seconds before it.
    seed_start(search, run, config, priors)
    if not search.population or run.should_stop():
        return
    if not parts:
        priors = policy_priors(run.target, agent, network)
    episodes = policy_episodes(run, agent, policy, network)
    # ``policy_share``: the first designs (episodes and evaluations) end at this share of the limit, so on a
    # long target under a short limit the search's loop still gets its time.
    cap = config.policy_share * run.settings.time_limit
    seeding = run.clock.share(cap) if cap > 0 else None

    def spent() -> bool:
        return seeding is not None and seeding.left() <= 0

    def sample(n: int, capped: bool = False) -> list[str]:
        designs: list[tuple[int, str]] = []
        for info in episodes:
            if not info["folded"]:
                break
            run.record_episode(info["sequence"], info["distance"], info["folds"])
            designs.append((info["distance"], info["sequence"]))
            if len(designs) >= n or run.should_stop() or (capped and spent()):
                break
        designs.sort()
        return [sequence for _, sequence in designs[: config.population]]

    search.reseed = sample
    if priors is not None:
        search.mix_priors(priors)
    if seeding is None:  # seed() repairs every design to the constraints before it evaluates any: as before
        search.seed(sample(config.policy_designs))
    else:
        for design in sample(config.policy_designs, capped=True):  # the closest first
            if spent():
                break
            search.seed([design])
    search.run_until_done()
