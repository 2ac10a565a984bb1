"""The ensemble-aware population search: the engine of the ``hybrid`` and ``search`` modes.

Every candidate is seen through its whole Boltzmann ensemble (:func:`~rnadesign.model.metrics.ensemble_view`:
an MFE fold and a partition function), and success is the MFE structure equal to the target. The
search keeps the ``population`` best designs by the objective (normalised ensemble defect, or
-ln P(target) per site), draws a parent by a softmax over the objective, draws a site in proportion
to its positional defect, and mutates it: an unpaired site to another base, a paired site together
with its partner to another pair (GC, CG, AU, UA, GU, UG; never a non-pair), sometimes with a stacked
neighbour pair; or (``bonus_hairpins``) a hairpin drawn by its positional defect takes another of the
loops the energy model tabulates with a bonus for its length (a closing pair and loop at once, such as
the tetraloop C UACG G). A child better than the population's worst joins it. When the best objective
has not improved for ``patience`` steps, the search starts afresh (``restart``: from new designs, in
``hybrid`` the policy's; or around its best design). The ideas come from SAMFEO (objective, population,
positional-defect sites, structured mutation) and NEMO (designer priors); the code is ours.

A design at least as close to the target as any before it is also finished (``finish_share``, ``finish``):
by default by negative design against the decoys (:func:`~rnadesign.search.walk.decoy_repair`: changes of up to
three sites or pairs around the mispaired sites, screened by energy evaluation against every competing
structure its folds have shown, only the best folded), or by LEARNA's adaptive walk (MFE folds at the
mispaired sites). The ensemble objective brings long designs close and the finish finds the last pair or
two cheaply. With the probability objective a child costs
an MFE fold and a partition function without pair probabilities; its positional defects (a second
partition function, with them) are computed only when it is drawn as a parent (``lazy_defects``).

The runners (:mod:`~rnadesign.runners.hybrid`) seed it: ``search`` with the designer's start (GC/CG pairs,
A in loops, G-A hairpin mismatches), ``hybrid`` also with the policy's designs and action probabilities
(:meth:`EnsembleSearch.mix_priors`), a long target also with its parts' designs
(:mod:`~rnadesign.search.hierarchy`). With ``adapt_rate`` the moves are drawn from a per-target policy
learned on the run (:mod:`~rnadesign.search.adapt`). With ``crossover`` or ``chimera`` each ended lineage's best is
archived, and a child (or a restart's seed) takes whole branches its fold misses from archived designs that
fold them (:mod:`~rnadesign.search.crossover`). Every fold is counted, within the run's deadline.

Under constraints (``run.constraints``) the start draws only allowed bases and pairs, a mutation only
sites that have another allowed choice and only allowed choices there, and every start and child is
repaired (GC content into the window, forbidden motifs out, pairs kept inside the mask); a child that
still breaks a constraint is dropped unevaluated, so the population holds only designs that could be
reported as solved.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np

from ..config import SearchConfig
from ..model.alphabet import PAIRS
from ..model.folding import bonus_hairpins
from ..model.metrics import EnsembleView, ensemble_view, positional_defect
from ..run.clock import follow
from ..run.state import DesignRun
from .adapt import UNPAIRED, MovePolicy
from .crossover import Archive
from .redraw import redraw_region
from .start import designer_start, first_style, mutation_priors
from .walk import adaptive_walk, decoy_repair

__all__ = ["EnsembleSearch", "designer_start"]

#: An ensemble view costs about this many MFE folds (an MFE fold and a partition function with pair
#: probabilities); without the pair probabilities about two, and the positional defects alone about two.
VIEW_FOLDS = 3
LAZY_VIEW_FOLDS = 2
DEFECT_FOLDS = 2


@dataclasses.dataclass(frozen=True)
class Candidate:
    view: EnsembleView
    objective: float

    @property
    def sequence(self) -> str:
        return self.view.sequence


class EnsembleSearch:
    """The population search on one design run (see the module docstring).

    ``hybrid`` adds the policy once the designer's start is done: :meth:`mix_priors` and ``reseed``.
    """

    def __init__(self, run: DesignRun, config: SearchConfig):
        self.run, self.config = run, config
        self.reseed: Callable[[int], list[str]] | None = None
        """Fresh designs for a restart (``hybrid``: the policy's); None: a new designer's start."""
        self.target = run.target
        self.rng = run.rng
        self.constraints = run.constraints
        length = len(self.target)
        # What a mutation may place: every base and pair without constraints, the mask's choices with them.
        self.allowed = ("ACGU",) * length if self.constraints is None else self.constraints.allowed
        self.mutable = np.ones(length, dtype=bool)
        """Sites a mutation may change: under constraints, those with another allowed base or pair."""
        if self.constraints is not None:
            options = self.constraints.pair_options
            self.mutable = np.array(
                [
                    len(self.allowed[i]) > 1 if j < 0 else len(options[(min(i, j), max(i, j))]) > 1
                    for i, j in enumerate(self.target.pairs)
                ]
            )
        self.population: list[Candidate] = []
        self.seen: dict[str, Candidate] = {}
        # With the probability objective a child's pair probabilities are needed only once it is drawn as
        # a parent (its sites are then drawn by positional defect); most never are.
        self.lazy = config.lazy_defects and config.objective == "probability"
        self.view_folds = LAZY_VIEW_FOLDS if self.lazy else VIEW_FOLDS
        self.view_s = self.view_folds * run.clock.fold_s
        self.defect_s = DEFECT_FOLDS * run.clock.fold_s
        self.finish_best = math.inf  # the closest design walked from so far
        self.finish_cap: float | None = None
        """Seconds the next finishes may take at most, besides the share (None: the share alone)."""
        self.finish_time = 0.0
        self.pending: list[str] = []  # walked designs better than where they started, to evaluate next
        self.steps = 0
        self.best_objective = math.inf
        self.last_improvement = 0
        # Every paired site's pair, as (i, j) with i < j: a mutation there changes both.
        self.pair_of = {i: (min(i, j), max(i, j)) for i, j in enumerate(self.target.pairs) if j >= 0}
        self.hairpins = self._bonus_hairpins() if config.bonus_hairpins > 0 else []
        self.style = first_style(config.style)
        """The current lineage's style (``alternate`` switches it at each restart)."""
        self.policy_rows: tuple[np.ndarray, np.ndarray] | None = None  # the policy's priors (mix_priors)
        self.parked: MovePolicy | None = None  # the move policy, set aside while a pyrimidine lineage runs
        self._style_priors()
        self.archive = Archive(self.target, config.archive) if config.crossover > 0 or config.chimera else None
        self.moves: MovePolicy | None = None
        """The per-target move policy (``adapt_rate`` > 0), built on the priors when the loop starts."""

    def start_adaptation(self) -> None:
        """Build the move policy on the current priors (after :meth:`mix_priors`) and adapt it toward the
        best design so far; nothing when ``adapt_rate`` is 0."""
        if not self.config.adapt_rate or self.moves is not None:  # 0, or None (a mode's; design() resolves it)
            return
        options = None if self.constraints is None else self.constraints.pair_options
        allowed = None if self.constraints is None else self.allowed
        config = self.config
        rate, prior, avoid = config.adapt_rate, config.adapt_prior, config.adapt_avoid or 0.0  # None: the mode's
        self.moves = MovePolicy(self.target, self.priors, self.pair_priors, rate, prior, allowed, options, avoid)
        for candidate in self.population:
            self.moves.offer(candidate.sequence, candidate.view.distance, candidate.objective)

    def _bonus_hairpins(self) -> list[tuple[int, int, tuple[str, ...]]]:
        """The target's hairpins ``(i, j, loops)`` for which the energy model tabulates bonus loops of
        their length, with the loops the constraints allow there."""
        tabled = bonus_hairpins(self.run.settings.folding)
        found = []
        for i, j in self.target.hairpins():
            if j - i - 1 in tabled:
                loops = tabled[j - i - 1]
                if self.constraints is not None:
                    options = self.constraints.pair_options[(i, j)]
                    loops = tuple(
                        m
                        for m in loops
                        if m[0] + m[-1] in options and all(b in self.allowed[i + k] for k, b in enumerate(m))
                    )
                if loops:
                    found.append((i, j, loops))
        return found

    def mix_priors(self, priors: tuple[np.ndarray, np.ndarray]) -> None:
        """Mix the policy's action probabilities (:func:`policy_priors`) into the designer's mutation
        weights, with weight ``config.policy_prior`` (the pyrimidine style's lineages draw without them)."""
        self.policy_rows = priors
        self._style_priors()

    def _style_priors(self) -> None:
        config = self.config
        self.priors, self.pair_priors = mutation_priors(
            self.target, config.boost, self.style, self.policy_rows, config.policy_prior
        )

    # -- evaluating -------------------------------------------------------------------------------
    def objective(self, view: EnsembleView) -> float:
        kind = self.config.objective
        if kind == "probability":
            return -math.log(max(view.probability, 1e-300)) / len(self.target)
        if kind == "mixed":
            return view.distance / len(self.target) + view.ensemble_defect
        if kind == "gap":
            return view.energy_gap / len(self.target) + view.ensemble_defect
        return view.ensemble_defect

    def evaluate(self, sequence: str) -> Candidate | None:
        """The candidate's ensemble view, if it still fits before the deadline (None otherwise)."""
        if sequence in self.seen:
            return self.seen[sequence]
        clock = self.run.clock
        if not clock.fits(self.view_s):
            return None
        start = time.perf_counter()
        view = ensemble_view(
            sequence, self.target, self.run.settings.folding, defects=not self.lazy, kt_scale=self.config.kt_scale
        )
        seconds = time.perf_counter() - start
        self.view_s = follow(self.view_s, seconds)
        clock.fold_s = max(clock.fold_s, seconds / self.view_folds)
        self.run.folds += self.view_folds
        self.run.episodes += 1
        candidate = Candidate(view, self.objective(view))
        self.seen[sequence] = candidate
        self.run.record(sequence, view.distance)
        self._finish(candidate)
        return candidate

    def _finish(self, candidate: Candidate) -> None:
        """Finish a design at least as close to the target as any finished before, with MFE folds only:
        ``finish`` "repair" (negative design against the decoys its folds show, changes screened by
        energy evaluation) or "walk" (LEARNA's adaptive walk at the sites its fold misses, and their
        neighbours). A finish starts only while finishes have had at most ``finish_share`` of the elapsed
        time, and stops when they have had that share of the whole time limit (a 400 nt walk of L folds
        would otherwise take a minute). The ensemble objective brings a long design close; the last pair
        or two is often cheaper to find by MFE folds (measured: Rfam-Learn-Test's 400 nt designs left at
        distance 2 by the search are solved in seconds). A closer finished design joins the population next."""
        run, distance, share = self.run, candidate.view.distance, self.config.finish_share
        if distance == 0 or distance > self.finish_best or run.done or share == 0:
            return
        now = time.perf_counter()
        budget = share * run.settings.time_limit - self.finish_time
        if self.finish_cap is not None:
            budget = min(budget, self.finish_cap)
        if self.finish_time > share * (now - run.start) or budget <= 0 or not run.clock.fits_fold():
            return
        self.finish_best = distance
        clock = run.clock
        walk_clock = clock.share(budget, now=now)
        finisher, extra = adaptive_walk, dict[str, object]()
        if self.config.finish == "repair":
            finisher = decoy_repair
            extra["interiors"] = self.config.repair_interiors
            if self.config.repair_loops:
                extra["loops"] = bonus_hairpins(run.settings.folding)
        walk = finisher(
            candidate.sequence,
            self.target,
            self.rng,
            max_folds=len(self.target),
            deadline=walk_clock,
            model=run.settings.folding,
            constraints=self.constraints,
            **extra,
        )
        clock.fold_s = max(clock.fold_s, walk_clock.fold_s)
        self.finish_time += time.perf_counter() - now
        run.folds += walk.folds
        run.record(walk.sequence, walk.distance)
        if walk.distance < distance:
            self.pending.append(walk.sequence)

    def add(self, candidate: Candidate) -> None:
        """Keep the ``population`` best distinct designs."""
        if any(c.sequence == candidate.sequence for c in self.population):
            return
        self.population.append(candidate)
        self.population.sort(key=lambda c: (c.view.distance > 0, c.objective))
        del self.population[self.config.population :]
        if candidate.objective < self.best_objective - 1e-12:
            self.best_objective = candidate.objective
            self.last_improvement = self.steps
        if self.moves is not None:
            self.moves.offer(candidate.sequence, candidate.view.distance, candidate.objective)

    # -- proposing --------------------------------------------------------------------------------
    def parent(self) -> Candidate | None:
        """A parent drawn by a softmax over the objective, with its positional defects (None when there
        is no time left to compute them)."""
        objectives = np.array([c.objective for c in self.population])
        weights = np.exp(-(objectives - objectives.min()) / self.config.parent_temperature)
        index = int(self.rng.choice(len(self.population), p=weights / weights.sum()))
        parent = self.population[index]
        if parent.view.defect:
            return parent
        if not self.run.clock.fits(self.defect_s):
            return None
        start = time.perf_counter()
        folding, kt_scale = self.run.settings.folding, self.config.kt_scale
        defect = positional_defect(parent.sequence, self.target, folding, parent.view.energy, kt_scale)
        seconds = time.perf_counter() - start
        self.defect_s = follow(self.defect_s, seconds)
        self.run.folds += DEFECT_FOLDS
        parent = dataclasses.replace(parent, view=dataclasses.replace(parent.view, defect=defect))
        self.population[index] = self.seen[parent.sequence] = parent
        return parent

    def mutate(self, parent: Candidate) -> str | None:
        """A child of ``parent``; None when the constraints refuse every repair of it (or nothing may change)."""
        letters = list(parent.sequence)
        weights = np.array(parent.view.defect) + self.config.site_floor
        graft = None
        if self.archive is not None and len(self.archive) and self.rng.random() < self.config.crossover:
            graft = self.archive.graft(parent.sequence, parent.view.structure, parent.view.defect, self.rng)
        if graft is not None:
            letters = list(graft)
        elif self.config.redraw > 0 and self.rng.random() < self.config.redraw and self._redraw(letters, parent):
            pass  # the sites around one miss redrawn from the move policy
        elif self.hairpins and self.rng.random() < self.config.bonus_hairpins:
            self._bonus_hairpin(letters, weights)
        elif not self._point_mutation(letters, weights):
            return None
        if self.constraints is None:
            return "".join(letters)
        child = self.constraints.repair("".join(letters), self.rng)
        return child if self.constraints.satisfied(child) else None

    def _point_mutation(self, letters: list[str], weights: np.ndarray) -> bool:
        """Change one site drawn by ``weights`` (a paired one with its partner, and sometimes a stacked
        neighbour pair); False when the constraints leave nothing to change."""
        if self.constraints is not None:
            weights = weights * self.mutable
            if not weights.sum() > 0:
                return False
        site = int(self.rng.choice(len(letters), p=weights / weights.sum()))
        if site in self.pair_of:
            self._mutate_pair(letters, self.pair_of[site])
            if self.rng.random() < self.config.neighbour_pair:
                i, j = self.pair_of[site]
                stacked = [(i - 1, j + 1), (i + 1, j - 1)]
                neighbours = [p for p in stacked if p[0] in self.pair_of and self.pair_of[p[0]] == p]
                if neighbours:
                    self._mutate_pair(letters, neighbours[int(self.rng.integers(len(neighbours)))])
        else:
            choices = [k for k, b in enumerate(UNPAIRED) if b != letters[site] and b in self.allowed[site]]
            letters[site] = self._draw_base(site, choices)
        return True

    def _redraw(self, letters: list[str], parent: Candidate) -> bool:
        """Redraw every unpaired site and pair around one of ``parent``'s misses (:mod:`~rnadesign.search.redraw`)
        from the move policy (without adaptation, the mutation priors); False when nothing there may change."""
        view, radius = parent.view, self.config.redraw_radius
        region = redraw_region(view.structure, self.target, view.defect, radius, self.rng)
        sites = {i for i in region if self.mutable[i]}
        pairs = self.target.pairs
        for i in sorted(sites):
            j = pairs[i]
            if j < 0:
                letters[i] = self._draw_base(i, [k for k, b in enumerate(UNPAIRED) if b in self.allowed[i]])
            elif i < j or j not in sites:  # a pair once, read at its opening site
                a, b = min(i, j), max(i, j)
                allowed = PAIRS if self.constraints is None else self.constraints.pair_options[(a, b)]
                letters[a], letters[b] = self._draw_pair(a, [k for k, p in enumerate(PAIRS) if p in allowed])
        return bool(sites)

    def _draw_base(self, site: int, choices: list[int]) -> str:
        """One of ``choices`` (indices into :data:`UNPAIRED`) at an unpaired site, drawn by the move policy
        (without adaptation, the mutation priors)."""
        w = self.priors[site, choices] if self.moves is None else self.moves.unpaired_weights(site, choices)
        return UNPAIRED[choices[int(self.rng.choice(len(choices), p=w / w.sum()))]]

    def _draw_pair(self, i: int, choices: list[int]) -> str:
        """One of ``choices`` (indices into :data:`PAIRS`) for the pair opened at ``i``, drawn as :meth:`_draw_base`."""
        w = self.pair_priors[i, choices] if self.moves is None else self.moves.pair_weights(i, choices)
        if not w.sum() > 0:  # the policy's priors give GU/UG none: the mask left only those
            w = np.ones(len(choices))
        return PAIRS[choices[int(self.rng.choice(len(choices), p=w / w.sum()))]]

    def _bonus_hairpin(self, letters: list[str], weights: np.ndarray) -> None:
        """Give one hairpin, drawn by its summed positional defect, another of its bonus loops."""
        spans = np.array([weights[i : j + 1].sum() for i, j, _ in self.hairpins])
        i, j, loops = self.hairpins[int(self.rng.choice(len(spans), p=spans / spans.sum()))]
        others = [m for m in loops if m != "".join(letters[i : j + 1])] or list(loops)
        letters[i : j + 1] = others[int(self.rng.integers(len(others)))]

    def _mutate_pair(self, letters: list[str], pair: tuple[int, int]) -> None:
        i, j = pair
        allowed = PAIRS if self.constraints is None else self.constraints.pair_options[pair]
        choices = [k for k, p in enumerate(PAIRS) if p != letters[i] + letters[j] and p in allowed]
        if not choices:  # a stacked neighbour the mask fixes
            return
        letters[i], letters[j] = self._draw_pair(i, choices)

    # -- the loop ---------------------------------------------------------------------------------
    def offer_child(self) -> bool:
        """Mutate a parent (or take a walked design) and keep the child if it is good enough; False when
        the time is up."""
        if self.pending:
            child = self.evaluate(self.pending.pop())
        else:
            parent = self.parent()
            if parent is None:
                return False
            sequence = self.mutate(parent)
            if sequence is None:  # refused by the constraints: a step without an evaluation
                return True
            child = self.evaluate(sequence)
        if child is None:
            return False
        self.add(child)
        return True

    def seed(self, sequences: list[str]) -> None:
        if self.constraints is not None:  # policy designs obey the mask, not yet the GC window or the motifs
            sequences = [self.constraints.repair(self.constraints.project(s), self.rng) for s in sequences]
        for sequence in sequences:
            candidate = self.evaluate(sequence)
            if candidate is None:
                return
            self.add(candidate)

    def run_until_done(self) -> None:
        if not self.mutable.any():  # the constraints fix every site: the start is the only design
            return
        self.start_adaptation()
        while self.population and not self.run.should_stop():
            if self.steps - self.last_improvement >= self.config.patience:
                self._reseed()
                if not self.population:  # the time ran out while reseeding
                    return
            self.steps += 1
            if not self.offer_child():  # no time left for another evaluation
                return

    def _reseed(self) -> None:
        """Stuck: start again from fresh designs (new policy designs, or a new designer's start); with
        ``restart`` "best", keep the best design and refill around it instead."""
        best, self.run.lineages = self.population[0], self.run.lineages + 1
        self.population = [best] if self.config.restart == "best" else []
        self.best_objective, self.last_improvement = (best.objective if self.population else math.inf), self.steps
        count = max(1, self.config.policy_designs // 2)
        if self.archive is not None:
            self.archive.add(best.sequence, best.view.structure, best.view.distance, best.objective)
        if self.moves is not None:
            self.moves.restart(best.sequence, best.view.structure)
        if self.config.style == "alternate":  # the next lineage in the other style; the move policy waits
            self.style = "pyrimidine" if self.style == "designer" else "designer"
            self._style_priors()
            self.moves, self.parked = self.parked, self.moves
        if self.style == "pyrimidine":
            fresh = [designer_start(self.target, self.rng, False, self.constraints, self.style) for _ in range(count)]
        elif self.moves is not None:  # what the lineages so far taught the move policy, not the prior alone
            fresh = [self.moves.playout(self.rng) for _ in range(count)]
        else:
            fresh = self.reseed(count) if self.reseed else []
        if self.config.chimera and self.archive is not None:
            chimera = self.archive.chimera(self.rng)
            if chimera is not None:
                fresh.insert(0, chimera)  # seed() repairs it under constraints, as every fresh design
        if not fresh and not self.population:
            fresh = [designer_start(self.target, self.rng, self.config.boost > 1, self.constraints, self.style)]
        self.seed(fresh)
        if not self.population:
            return
        while len(self.population) < self.config.population and self.run.clock.fits(self.view_s):
            if not self.offer_child():
                return
