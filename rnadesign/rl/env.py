"""The RNA design environment: place nucleotides left to right, rewarded by how well they fold."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..config import EnvConfig
from ..model.folding import DEFAULT_MODEL, FoldingModel, fold, hamming
from ..model.structure import Structure, parse_structure
from ..run.clock import Deadline
from .registration import ENV_ID, register_envs

if TYPE_CHECKING:
    from ..model.constraints import BoundConstraints

__all__ = ["ENV_ID", "RnaDesignEnv", "LocalImprovement", "local_improvement", "structure_windows"]

register_envs()

#: Action -> nucleotide at an unpaired site, and -> (opening, closing) nucleotides at a pair.
UNPAIRED_ACTIONS = ("G", "A", "U", "C")
PAIR_ACTIONS = (("G", "C"), ("C", "G"), ("A", "U"), ("U", "A"))
_WOBBLE = ("GU", "UG")

#: State codes of the structure channel (the sequence channel uses 0 = not yet placed, 1..4 = ACGU).
STRUCTURE_CODES = {".": 0, "(": 1, ")": 2}
PAD = 3
N_STRUCTURE_SYMBOLS = 4
N_SEQUENCE_SYMBOLS = 5
_NUCLEOTIDE_CODES = {"A": 1, "C": 2, "G": 3, "U": 4}


def _padded_codes(target: Structure, radius: int) -> np.ndarray:
    """The structure channel's codes, with ``radius`` pads before and ``radius + 1`` after."""
    codes = [STRUCTURE_CODES[c] for c in target.dot_bracket]
    return np.array([PAD] * radius + codes + [PAD] * (radius + 1), dtype=np.int64)


def _decision_sites(target: Structure) -> np.ndarray:
    """The sites where a decision is made: every site but a pair's closing one."""
    return np.array(target.decision_sites(), dtype=np.int64)


def structure_windows(target: Structure, config: EnvConfig) -> np.ndarray:
    """The observation at every decision site, in order, for an environment that shows the structure alone
    (``include_sequence`` off): what :class:`RnaDesignEnv` gives there, without stepping an episode."""
    if config.include_sequence:
        raise ValueError("the observations depend on the nucleotides placed (include_sequence is on)")
    padded = _padded_codes(target, config.state_radius)
    return np.lib.stride_tricks.sliding_window_view(padded, config.window)[_decision_sites(target)].copy()


@dataclass(frozen=True)
class LocalImprovement:
    """Outcome of the local improvement step."""

    sequence: str
    structure: str
    distance: int
    folds: int
    """Extra folds the step spent."""


def local_improvement(
    sequence: str,
    structure: str,
    target: str,
    model: FoldingModel = DEFAULT_MODEL,
    deadline: Deadline | None = None,
    constraints: BoundConstraints | None = None,
) -> LocalImprovement:
    """Try every nucleotide assignment of the sites where ``structure`` misses ``target``.

    LEARNA's step, with its bug fixed: the best sequence found is returned with its distance,
    so the caller keeps the improved design. Stops at the first assignment that solves the target,
    and before a fold that would not fit before ``deadline``. With ``constraints`` a mismatched paired
    site changes together with its partner (as many assignments, or fewer: a pair has at most four
    Watson-Crick options), only to what the mask allows, and a candidate with a forbidden motif is not folded.
    """
    sites = [i for i, (a, b) in enumerate(zip(structure, target)) if a != b]
    best = LocalImprovement(sequence, structure, hamming(structure, target), 0)
    if constraints is not None:  # whole pairs, inside the mask
        units, assignments = _allowed_assignments(sites, constraints)
        sites = [site for unit in units for site in unit]
    else:
        assignments = itertools.product("ACGU", repeat=len(sites))
    original = tuple(sequence[i] for i in sites)
    letters = list(sequence)
    folds = 0
    for assignment in assignments:
        if assignment == original:
            continue
        if deadline is not None and not deadline.fits_fold():
            break
        for site, nucleotide in zip(sites, assignment):
            letters[site] = nucleotide
        candidate = "".join(letters)
        if constraints is not None and constraints.motif_hits(candidate):
            continue
        folded, _ = deadline.fold(candidate, model) if deadline is not None else fold(candidate, model)
        folds += 1
        distance = hamming(folded, target)
        if distance < best.distance:
            best = LocalImprovement(candidate, folded, distance, 0)
            if distance == 0:
                break
    return LocalImprovement(best.sequence, best.structure, best.distance, folds)


def _allowed_assignments(
    sites: list[int], constraints: BoundConstraints
) -> tuple[list[tuple[int, ...]], Iterator[tuple[str, ...]]]:
    """The local step under constraints: a mismatched paired site changes with its partner, to a pair the
    environment could place (Watson-Crick, or G-U where the mask leaves only that), an unpaired one to an
    allowed base. Returns the units (sites) and every assignment, one base per site of the units in order."""
    units: list[tuple[int, ...]] = []
    options: list[list[str]] = []
    for i in sites:
        j = constraints.target.pairs[i]
        unit = (i,) if j < 0 else (min(i, j), max(i, j))
        if unit in units:
            continue
        units.append(unit)
        if j < 0:
            options.append(list(constraints.allowed[i]))
        else:
            pairs = constraints.pair_options[unit]
            options.append([p for p in pairs if p not in _WOBBLE] or list(pairs))
    assignments = (tuple("".join(combination)) for combination in itertools.product(*options))
    return units, assignments


def action_table(target: Structure, constraints: BoundConstraints) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Per decision of an episode on ``target``: what each action places, and which actions are allowed.

    An allowed action places what it always does. At a pair whose mask leaves no Watson-Crick pair but a
    G-U wobble (and ``allow_gu``), action 0 (GC) places GU and action 3 (UA) places UG: the same base at
    the opening site. A disallowed action places what the next allowed action (cyclically) would, which
    is how PPO, which stable-baselines3 cannot mask, still designs only allowed sequences.

    Returns:
        ``placements[step][action]``: the nucleotide, or the (opening, closing) pair; ``masks``: a
        ``(decisions, 4)`` boolean array.
    """
    placements: list[tuple[str, ...]] = []
    masks = []
    for site, partner in enumerate(target.pairs):
        if partner != -1 and partner < site:
            continue
        if partner == -1:
            choices = [b if b in constraints.allowed[site] else None for b in UNPAIRED_ACTIONS]
        else:
            options = constraints.pair_options[(site, partner)]
            choices = [a + b if a + b in options else None for a, b in PAIR_ACTIONS]
            if not any(choices):  # only wobble pairs are left
                choices = [p if p in options else None for p in ("GU", None, None, "UG")]
        mask = [choice is not None for choice in choices]  # bind() leaves every site an allowed base
        placements.append(tuple(next(choices[(a + k) % 4] for k in range(4) if mask[(a + k) % 4]) for a in range(4)))
        masks.append(mask)
    return placements, np.array(masks, dtype=bool).reshape(-1, 4)


class RnaDesignEnv(gym.Env):
    """Design an RNA sequence for a target secondary structure, one decision at a time.

    ## Description
    An episode designs one sequence for one target dot-bracket structure. Sites are filled left
    to right; the agent acts only at the first site not yet assigned. At an unpaired site it picks
    a nucleotide; at an opening bracket it picks a Watson-Crick pair, which fills the site and its
    partner at once (the closing site is then skipped). When every site is assigned the sequence
    is folded with ViennaRNA and compared with the target. This is the environment of LEARNA
    (Runge et al., ICLR 2019), with the original's local improvement bug fixed.

    ## Action Space
    ``Discrete(4)``. At an unpaired site: 0 = G, 1 = A, 2 = U, 3 = C. At an opening bracket:
    0 = GC, 1 = CG, 2 = AU, 3 = UA (nucleotide at the opening site first). With ``constraints``,
    :meth:`action_masks` says which actions the sequence constraint allows at the current site (a
    sampler draws only those); a disallowed action places what the next allowed one would (see
    :func:`action_table`), so PPO, which cannot mask, still places only allowed nucleotides, and
    learns the log-probability of the action it chose, not of the one placed. Where a pair's mask
    leaves only a G-U wobble, actions 0 and 3 place GU and UG.

    ## Observation Space
    ``Box(0, 4, shape=(C * (2r+1),), int64)`` with r = ``state_radius``: the target symbols in a
    window centred on the current site, coded ``.``=0, ``(``=1, ``)``=2 and padding beyond either
    end=3. With ``include_sequence`` (C = 2) the window's nucleotides already placed follow
    (0 = not yet placed or padding, 1..4 = A, C, G, U). After the last decision the window is
    centred one site past the end.

    ## Rewards
    0 on every step but the last. At the end the sequence is folded, d is the Hamming distance
    between its MFE structure and the target; if ``0 < d < mutation_threshold`` every assignment
    of the mismatched sites is tried and the best sequence is kept. Reward = (1 - d/L) ** e with
    e = ``reward_exponent``. With ``constraints`` the reward is multiplied by
    :meth:`~rnadesign.model.constraints.BoundConstraints.reward_factor`: less outside the GC window, halved
    for every forbidden motif.

    ## Episode End
    Terminates after the last decision (L minus the number of pairs steps). With a ``deadline`` that
    leaves no room for the final fold, that step truncates instead (something outside the MDP stopped
    it, per Gymnasium): the episode ends unfolded, reward 0, ``folded`` False (the run that set the
    deadline is over; nothing is learned from it).

    ## Information
    Every step: ``target_index``. At the end also ``sequence`` (the design, improved if the local
    step helped), ``structure`` (its MFE structure), ``distance``, ``solved`` (d == 0),
    ``distance_before_improvement``, ``folds`` (ViennaRNA folds spent on the episode) and ``folded``.
    With ``constraints``, ``solved`` also needs the design to satisfy them.

    ## Starting State
    The window centred on site 0 of a target. With several targets, each reset takes the next one
    of a random permutation (a new permutation each epoch); ``options={"target_index": i}`` picks one.

    ## Arguments
    - ``targets``: one dot-bracket string or :class:`~rnadesign.model.structure.Structure`, or a sequence of them.
    - ``config``: an :class:`~rnadesign.config.EnvConfig` (or a dict of its fields).
    - ``folding``: a :class:`~rnadesign.model.folding.FoldingModel`; ViennaRNA defaults otherwise.
    - ``render_mode``: None or ``"ansi"``.
    - ``deadline``: a :class:`~rnadesign.run.clock.Deadline` every fold of the episode must fit before
      (a design run shares its own with its environments); None: no limit.
    - ``constraints``: :class:`~rnadesign.model.constraints.BoundConstraints` bound to the one target; None:
      unconstrained.

    ```python
    import gymnasium as gym
    import rnadesign  # registers the id
    env = gym.make("RnaDesign-v0", targets="((((....))))")
    ```
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        targets: str | Structure | Sequence[str | Structure],
        config: EnvConfig | dict[str, Any] | None = None,
        folding: FoldingModel | None = None,
        render_mode: str | None = None,
        deadline: Deadline | None = None,
        constraints: BoundConstraints | None = None,
    ):
        if isinstance(targets, (str, Structure)):
            targets = [targets]
        self.targets: list[Structure] = [
            t if isinstance(t, Structure) else parse_structure(t, warn=False) for t in targets
        ]
        if not self.targets:
            raise ValueError("RnaDesignEnv needs at least one target")
        if config is None:
            config = EnvConfig()
        elif isinstance(config, dict):
            config = EnvConfig(**config)
        self.config = config
        self.folding = folding or DEFAULT_MODEL
        self.deadline = deadline
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}")
        self.render_mode = render_mode

        r = config.state_radius
        self._channels = 2 if config.include_sequence else 1
        self.action_space = spaces.Discrete(4)
        self.observation_space = spaces.Box(
            low=0, high=N_SEQUENCE_SYMBOLS - 1, shape=(self._channels * (2 * r + 1),), dtype=np.int64
        )
        # Per target: padded structure codes and the sites where a decision is made.
        self._padded_codes = [_padded_codes(t, r) for t in self.targets]
        self._decision_sites = [_decision_sites(t) for t in self.targets]
        self.constraints = constraints
        self._placements: list[tuple[str, ...]] | None = None
        self._masks = np.ones((0, 4), dtype=bool)
        if constraints is not None:
            if len(self.targets) != 1 or constraints.target.dot_bracket != self.targets[0].dot_bracket:
                raise ValueError("constraints are bound to one target: the environment must design that one alone")
            self._placements, self._masks = action_table(self.targets[0], constraints)
        self._order: list[int] = []
        self._target_index = 0
        self._step = 0
        self._letters: list[str] = []
        self._sequence_codes = np.zeros(0, dtype=np.int64)
        self._finished = True

    # -- helpers ---------------------------------------------------------------------------
    @property
    def target(self) -> Structure:
        """The current episode's target."""
        return self.targets[self._target_index]

    def _site(self) -> int:
        sites = self._decision_sites[self._target_index]
        return int(sites[self._step]) if self._step < len(sites) else len(self.target)

    def _get_obs(self) -> np.ndarray:
        width = self.config.window
        site = self._site()
        rows = [self._padded_codes[self._target_index][site : site + width]]
        if self._channels == 2:
            rows.append(self._sequence_codes[site : site + width])
        return np.concatenate(rows)

    def action_masks(self) -> np.ndarray:
        """Which of the four actions the constraints allow at the current site (all without constraints;
        the name sb3-contrib's ``MaskablePPO`` looks for)."""
        if self._placements is None or self._finished:
            return np.ones(4, dtype=bool)
        return self._masks[self._step].copy()

    def _get_info(self) -> dict[str, Any]:
        return {"target_index": self._target_index}

    def _next_target(self, options: dict[str, Any] | None) -> int:
        if options and "target_index" in options:
            index = int(options["target_index"])
            if not 0 <= index < len(self.targets):
                raise ValueError(f"target_index {index} out of range (0..{len(self.targets) - 1})")
            return index
        if not self._order:
            self._order = [int(i) for i in self.np_random.permutation(len(self.targets))]
        return self._order.pop()

    # -- gymnasium API ---------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._order = []  # a reseeded env replays the same target order
        self._target_index = self._next_target(options)
        self._step = 0
        length = len(self.target)
        self._letters = [""] * length
        r = self.config.state_radius
        self._sequence_codes = np.zeros(length + 2 * r + 1, dtype=np.int64)
        self._finished = False
        return self._get_obs(), self._get_info()

    def step(self, action):
        if self._finished:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        action = int(action)
        if not 0 <= action < 4:
            raise ValueError(f"action must be 0..3, got {action}")
        site = self._site()
        partner = self.target.pairs[site]
        r = self.config.state_radius
        if self._placements is not None:
            placed = self._placements[self._step][action]
            self._place(site, placed[0], r)
            if partner != -1:
                self._place(partner, placed[1], r)
        elif partner == -1:
            self._place(site, UNPAIRED_ACTIONS[action], r)
        else:
            opening, closing = PAIR_ACTIONS[action]
            self._place(site, opening, r)
            self._place(partner, closing, r)
        self._step += 1
        last = self._step == len(self._decision_sites[self._target_index])
        info = self._get_info()
        reward = 0.0
        terminated = truncated = False
        if last:
            self._finished = True
            reward = self._finish(info)
            # The deadline (outside the MDP) left no time for the fold: the episode is cut, not complete.
            truncated = not info["folded"]
            terminated = not truncated
        return self._get_obs(), reward, terminated, truncated, info

    def _place(self, site: int, nucleotide: str, r: int) -> None:
        self._letters[site] = nucleotide
        self._sequence_codes[site + r] = _NUCLEOTIDE_CODES[nucleotide]

    def _finish(self, info: dict[str, Any]) -> float:
        target = self.target.dot_bracket
        sequence = "".join(self._letters)
        if self.deadline is not None and not self.deadline.fits_fold():
            info.update(
                sequence=sequence,
                structure="",
                distance=len(target),
                solved=False,
                folds=0,
                folded=False,
                distance_before_improvement=len(target),
            )
            return 0.0
        clock = self.deadline
        structure, _ = clock.fold(sequence, self.folding) if clock is not None else fold(sequence, self.folding)
        distance = hamming(structure, target)
        info["distance_before_improvement"] = distance
        folds = 1
        if 0 < distance < self.config.mutation_threshold:
            improved = local_improvement(sequence, structure, target, self.folding, self.deadline, self.constraints)
            sequence, structure, distance = improved.sequence, improved.structure, improved.distance
            folds += improved.folds
            self._letters = list(sequence)
        solved = distance == 0 and (self.constraints is None or self.constraints.satisfied(sequence))
        info.update(sequence=sequence, structure=structure, distance=distance, solved=solved, folds=folds, folded=True)
        reward = float((1.0 - distance / len(target)) ** self.config.reward_exponent)
        if self.constraints is not None:
            reward *= self.constraints.reward_factor(sequence)
        return reward

    def render(self):
        if self.render_mode != "ansi":
            return None
        placed = "".join(c or "-" for c in self._letters)
        return f"{self.target.dot_bracket}\n{placed}\n"
