"""Online policy adaptation for the ensemble search: a per-target policy over its moves, learned on the
target from the best designs found (the idea of nested rollout policy adaptation, GNRPA's bias; our code).

A move is a base at an unpaired site or a pair at a paired one. The policy's probability of a choice
``c`` at a site is softmax over the site's allowed choices of ``W[site, c] + beta * log prior[site, c]``:
``W`` is learned on this target (zero at the start), ``prior`` is what the search already draws by (the
designer's weights, mixed in ``hybrid`` with the meta-trained network's action probabilities), and
``beta`` weighs the prior against what was learned. With ``W`` zero and ``beta`` 1 the draws are exactly
the search's draws without adaptation.

:meth:`MovePolicy.adapt` is the policy-gradient step on an elite design (NRPA's ``Adapt``): at every
site, ``+rate`` on the elite's choice and ``-rate`` times each choice's probability, so the elite's
choices become likelier everywhere. The search adapts after each new elite (the best design by MFE
distance, then by its objective, over the whole run, restarts included), and on a restart
draws its fresh designs from the adapted policy (:meth:`MovePolicy.playout`): a restart then keeps
what earlier lineages learned instead of starting from the prior alone. With ``avoid`` a lineage that
ended without a closer design pushes the policy away from its best design's choices at the sites around its
miss (:meth:`MovePolicy.restart`): without it every restart's playouts return to the elite's basin.
"""

from __future__ import annotations

import math

import numpy as np

from ..model.alphabet import PAIRS
from ..model.structure import Structure
from .walk import miss_region

__all__ = ["UNPAIRED", "MovePolicy"]

UNPAIRED = "ACGU"


class MovePolicy:
    """Learned weights over the search's moves on one target (see the module docstring).

    Args:
        target: the structure designed.
        unpaired_prior: per site, weights over :data:`UNPAIRED` (rows of paired sites are ignored).
        pair_prior: per site, weights over :data:`PAIRS` (read at a pair's opening site).
        rate: the adaptation's step size (``alpha``).
        prior_weight: ``beta``, the weight of the prior's log against the learned weights.
        allowed: per site, the bases the constraints allow (None: all).
        pair_options: per pair ``(i, j)``, the pairs the constraints allow (None: all of :data:`PAIRS`).
        avoid: the step size away from a stale lineage's best design (:meth:`restart`; 0: none).
    """

    def __init__(
        self,
        target: Structure,
        unpaired_prior: np.ndarray,
        pair_prior: np.ndarray,
        rate: float,
        prior_weight: float = 1.0,
        allowed: tuple[str, ...] | None = None,
        pair_options: dict[tuple[int, int], tuple[str, ...]] | None = None,
        avoid: float = 0.0,
    ):
        length = len(target)
        self.target, self.rate, self.avoid = target, rate, avoid
        self.pairs = [(i, j) for i, j in enumerate(target.pairs) if i < j]
        self.partner = dict(self.pairs)  # a pair's closing site by its opening one
        self.loops = [i for i, j in enumerate(target.pairs) if j < 0]
        # The log of a zero prior is -inf: a choice the prior rules out stays ruled out, as before.
        self.unpaired_bias = _log_prior(unpaired_prior, prior_weight)
        self.pair_bias = _log_prior(pair_prior, prior_weight)
        self.unpaired_w = np.zeros((length, len(UNPAIRED)))
        self.pair_w = np.zeros((length, len(PAIRS)))
        # Allowed choices as boolean masks (what a playout and the gradient range over).
        self.unpaired_mask = np.ones((length, len(UNPAIRED)), dtype=bool)
        self.pair_mask = np.ones((length, len(PAIRS)), dtype=bool)
        if allowed is not None:
            for i in self.loops:
                self.unpaired_mask[i] = [b in allowed[i] for b in UNPAIRED]
        if pair_options is not None:
            for i, j in self.pairs:
                self.pair_mask[i] = [p in pair_options[(i, j)] for p in PAIRS]
        # A site whose prior gives every allowed choice zero weight falls back to a uniform prior there.
        for bias, mask, sites in (
            (self.unpaired_bias, self.unpaired_mask, self.loops),
            (self.pair_bias, self.pair_mask, [i for i, _ in self.pairs]),
        ):
            for i in sites:
                if not np.isfinite(bias[i][mask[i]]).any():
                    bias[i] = 0.0
        self.adaptations = 0
        self.elite: tuple[float, float] = (math.inf, math.inf)
        """(MFE distance, objective) of the best design adapted toward, over the whole run."""
        self.restart_distance = math.inf  # the elite's MFE distance at the last restart
        self.avoided = 0

    # -- probabilities ----------------------------------------------------------------------------
    @staticmethod
    def _softmax(logits: np.ndarray, mask: np.ndarray) -> np.ndarray:
        logits = np.where(mask, logits, -np.inf)
        top = logits.max(axis=-1, keepdims=True)
        weights = np.exp(logits - top)
        return weights / weights.sum(axis=-1, keepdims=True)

    def unpaired_probabilities(self, site: int) -> np.ndarray:
        """The policy's probabilities over :data:`UNPAIRED` at an unpaired site (allowed bases only)."""
        return self._softmax(self.unpaired_w[site] + self.unpaired_bias[site], self.unpaired_mask[site])

    def pair_probabilities(self, i: int) -> np.ndarray:
        """The policy's probabilities over :data:`PAIRS` at the pair opened at ``i`` (allowed pairs only)."""
        return self._softmax(self.pair_w[i] + self.pair_bias[i], self.pair_mask[i])

    def unpaired_weights(self, site: int, choices: list[int]) -> np.ndarray:
        """Unnormalised weights of some of a site's base choices (indices into :data:`UNPAIRED`)."""
        logits = self.unpaired_w[site, choices] + self.unpaired_bias[site, choices]
        return _relative(logits)

    def pair_weights(self, i: int, choices: list[int]) -> np.ndarray:
        """Unnormalised weights of some of a pair's choices (indices into :data:`PAIRS`)."""
        return _relative(self.pair_w[i, choices] + self.pair_bias[i, choices])

    # -- learning ---------------------------------------------------------------------------------
    def adapt(self, elite: str, steps: int = 1) -> None:
        """``steps`` policy-gradient steps toward ``elite``'s choices at every site (NRPA's Adapt): the
        learned weight of the elite's choice rises by ``rate`` and every allowed choice's falls by ``rate``
        times its probability under the policy before the step. A choice ``elite`` holds that the policy
        cannot make (outside the constraints, or one its prior rules out) leaves that site as it is."""
        if self.rate <= 0:
            return
        self._step(elite, self.rate, steps)
        self.adaptations += steps

    def _step(self, elite: str, rate: float, steps: int = 1, sites: set[int] | None = None) -> None:
        """:meth:`adapt`'s steps with step size ``rate`` (negative: away from ``elite``), at every site or at
        the unpaired sites and pairs with a site in ``sites``."""
        loops = np.array([i for i in self.loops if sites is None or i in sites], dtype=np.int64)
        opens = np.array([i for i, j in self.pairs if sites is None or i in sites or j in sites], dtype=np.int64)
        u_choice = np.array([UNPAIRED.index(elite[i]) for i in loops], dtype=np.int64)
        made = [elite[i] + elite[self.partner[i]] for i in opens]
        p_choice = np.array([PAIRS.index(p) if p in PAIRS else -1 for p in made], dtype=np.int64)
        for _ in range(steps):
            for w, bias, mask, sites, choice in (
                (self.unpaired_w, self.unpaired_bias, self.unpaired_mask, loops, u_choice),
                (self.pair_w, self.pair_bias, self.pair_mask, opens, p_choice),
            ):
                if len(sites) == 0:
                    continue
                # a choice the policy cannot make (outside the mask, or ruled out by a zero prior): no step
                ok = (choice >= 0) & mask[sites, choice.clip(0)] & np.isfinite(bias[sites, choice.clip(0)])
                sites, chosen = sites[ok], choice[ok]
                probabilities = self._softmax(w[sites] + bias[sites], mask[sites])
                w[sites] -= rate * probabilities
                w[sites, chosen] += rate

    def offer(self, sequence: str, distance: int, objective: float) -> None:
        """Adapt toward ``sequence`` if it is a new elite: ordered as the leaders order designs, by MFE
        distance first, then the search's objective. The elite is kept across the search's restarts
        (NRPA's best sequence), so what one lineage found outlives it."""
        if (distance, objective) < self.elite:
            self.elite = (distance, objective)
            self.adapt(sequence)

    def restart(self, best: str, structure: str) -> bool:
        """The search restarts; ``best`` (MFE ``structure``) is the best design of the lineage that ended. If
        the elite's MFE distance did not come down since the last restart, the lineage was stale: one step
        away from ``best``'s choices (step size ``avoid``) at the unpaired sites and pairs around its miss
        (:func:`~rnadesign.search.walk.miss_region`), so the next playouts try other choices where it failed
        and keep its choices elsewhere. True when it stepped."""
        stale = self.elite[0] >= self.restart_distance
        self.restart_distance = self.elite[0]
        if not stale or self.avoid <= 0 or self.rate <= 0:
            return False
        self._step(best, -self.avoid, sites=miss_region(structure, self.target, 1))
        self.avoided += 1
        return True

    def playout(self, rng: np.random.Generator) -> str:
        """A whole design drawn from the policy, site by site (a pair as one choice)."""
        letters = ["A"] * len(self.target)
        for i in self.loops:
            p = self.unpaired_probabilities(i)
            letters[i] = UNPAIRED[int(rng.choice(len(UNPAIRED), p=p))]
        for i, j in self.pairs:
            p = self.pair_probabilities(i)
            letters[i], letters[j] = PAIRS[int(rng.choice(len(PAIRS), p=p))]
        return "".join(letters)


def _log_prior(prior: np.ndarray, weight: float) -> np.ndarray:
    """``weight * log(prior)``, with -inf where the prior is zero whatever the weight (0 * -inf is no number)."""
    prior = np.asarray(prior, dtype=float)
    with np.errstate(divide="ignore"):
        logs = np.log(prior)
    return np.where(prior > 0, weight * np.where(prior > 0, logs, 0.0), -np.inf)


def _relative(logits: np.ndarray) -> np.ndarray:
    """exp(logits) scaled so the largest is 1 (all zero when every logit is -inf)."""
    finite = logits[np.isfinite(logits)]
    if finite.size == 0:
        return np.zeros_like(logits)
    return np.exp(logits - finite.max())
