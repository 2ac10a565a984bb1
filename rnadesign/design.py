"""Design loops: turn a target structure into sequences, within a wall-clock budget.

``learna`` mode trains a fresh PPO agent on the one target (LEARNA, ICLR 2019). Every solution
is folded again here, independently of the environment, before it is reported.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from .config import DEFAULT_MODE, DESIGN_MODES, AgentConfig, load_agent_config
from .env import RnaDesignEnv
from .folding import DEFAULT_MODEL, FoldingModel, check_design, vienna_version
from .policies import policy_kwargs
from .policy_file import default_policy_path, load_policy
from .search import adaptive_walk
from .structure import Structure, parse_structure

__all__ = ["MODES", "Design", "DesignSettings", "design", "seed_everything"]

MODES = DESIGN_MODES

Progress = Callable[[str], None]
#: Called with (sequence, distance, seconds since the design started) whenever the best design improves.
OnBest = Callable[[str, int, float], None]


@dataclass(frozen=True)
class DesignSettings:
    """How one design run is budgeted and seeded."""

    mode: str = DEFAULT_MODE
    """Design mode, one of :data:`MODES`."""
    time_limit: float = 60.0
    """Wall-clock seconds for the whole design of one target."""
    num_solutions: int = 1
    """Stop after this many distinct solutions."""
    restart_timeout: float | None = None
    """Start a fresh agent when this many seconds pass without a new solution (None: never)."""
    stall_restart: float = 20.0
    """``learna`` mode: start a fresh agent when its own designs have not improved for this many seconds
    while staying worse than the best design found (by local search or an earlier agent): PPO has then
    settled in a poorer basin than search already reached. 0 turns it off. Measured with
    ``scripts/learna_taneda.py``; the meta-learna-adapt mode never uses it."""
    seed: int | None = None
    """Seeds Python, NumPy, torch and the environment; None draws a fresh seed."""
    folding: FoldingModel = DEFAULT_MODEL
    """The energy model designs are folded with."""
    progress_every: float = 5.0
    """Seconds between progress reports."""
    refine_share: float = 0.5
    """Most of the elapsed time spent refining designs by local search (0 turns it off)."""
    policy: str | None = None
    """Pre-trained policy file for the meta modes (None: the one shipped with the package)."""
    sample_batch: int = 16
    """Episodes sampled per policy call in ``meta-learna`` mode."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if not self.time_limit > 0:
            raise ValueError(f"time_limit must be positive, got {self.time_limit}")
        if self.num_solutions < 1:
            raise ValueError(f"num_solutions must be at least 1, got {self.num_solutions}")
        if self.restart_timeout is not None and not self.restart_timeout > 0:
            raise ValueError(f"restart_timeout must be positive, got {self.restart_timeout}")
        if not self.stall_restart >= 0:
            raise ValueError(f"stall_restart must be 0 (off) or positive, got {self.stall_restart}")
        if not 0 <= self.refine_share < 1:
            raise ValueError(f"refine_share must be in [0, 1), got {self.refine_share}")


@dataclass
class Design:
    """The outcome of designing one target."""

    name: str
    target: str
    sequence: str
    """Best design: the first solution, or the design closest to the target."""
    structure: str
    """MFE structure of ``sequence``, folded again after the run."""
    distance: int
    """Hamming distance between ``structure`` and ``target``."""
    solved: bool
    time_s: float
    """Seconds until the last requested solution was found, or the whole time spent."""
    seed: int
    mode: str
    unique_mfe: bool = False
    """``target`` is the only structure at the MFE of ``sequence``."""
    episodes: int = 0
    restarts: int = 0
    solutions: list[str] = field(default_factory=list)
    """Distinct verified solutions, in the order found."""
    vienna_version: str = field(default_factory=vienna_version)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class _Tracker:
    """Keeps the best design seen and the verified solutions; refines promising designs."""

    def __init__(
        self,
        target: Structure,
        settings: DesignSettings,
        start: float,
        deadline: float,
        seed: int,
        on_best: OnBest | None = None,
    ):
        self.target = target
        self.on_best = on_best
        self.settings = settings
        self.start = start
        self.deadline = deadline
        self.rng = np.random.default_rng(seed)
        self.best_distance = len(target) + 1
        self.best_sequence = ""
        self.best_policy_distance = len(target) + 1
        self.solutions: list[str] = []
        self.solved_at: float | None = None
        self.episodes = 0
        self.refine_time = 0.0
        self.last_solution = start

    @property
    def done(self) -> bool:
        return len(self.solutions) >= self.settings.num_solutions

    def record_episode(self, sequence: str, distance: int) -> None:
        """Record a design the policy produced, and refine it if it is among the policy's best."""
        self.episodes += 1
        self._record(sequence, distance)
        if distance == 0 or distance > self.best_policy_distance:
            return
        self.best_policy_distance = distance
        now = time.perf_counter()
        share = self.settings.refine_share
        if self.done or share == 0 or self.refine_time > share * (now - self.start):
            return
        walk = adaptive_walk(
            sequence,
            self.target,
            self.rng,
            max_folds=len(self.target),
            deadline=self.deadline,
            model=self.settings.folding,
        )
        self.refine_time += time.perf_counter() - now
        self._record(walk.sequence, walk.distance)

    def _record(self, sequence: str, distance: int) -> None:
        if distance < self.best_distance:
            self.best_distance, self.best_sequence = distance, sequence
            if self.on_best is not None:
                self.on_best(sequence, distance, time.perf_counter() - self.start)
        if distance == 0 and not self.done and sequence not in self.solutions:
            if not check_design(sequence, self.target, self.settings.folding).solved:
                warnings.warn(f"the environment reported {sequence} as solved but it does not refold", stacklevel=2)
                return
            self.solutions.append(sequence)
            self.last_solution = time.perf_counter()
            if self.done:
                self.solved_at = self.last_solution - self.start


class _DesignCallback(BaseCallback):
    """Feeds finished episodes to the tracker and stops learning at the deadline or when done.

    SB3 cannot interrupt a PPO update once it starts, and with big batches, many epochs or an LSTM
    one update takes seconds. So the rollout that would trigger an update is cut short when the last
    update's duration says this one would end past ``stop_at``.

    With ``stall`` seconds, learning also stops (``stalled`` becomes True) when the agent's own best
    design has not improved for that long and is worse than the best design the tracker holds.
    """

    def __init__(
        self,
        tracker: _Tracker,
        stop_at: float,
        progress: Progress | None,
        every: float,
        stall: float | None = None,
    ):
        super().__init__()
        self.tracker = tracker
        self.stop_at = stop_at
        self.progress = progress
        self.every = every
        self.stall = stall
        self.next_report = time.perf_counter() + every
        self.update_s = 0.0
        """Seconds the last PPO update took (0 before the first)."""
        self._rollout_end: float | None = None
        self.agent_best = len(tracker.target) + 1
        """Best distance among this agent's own episodes (after the environment's local step)."""
        self.agent_best_at = time.perf_counter()
        self.stalled = False

    def _on_rollout_end(self) -> None:
        self._rollout_end = time.perf_counter()

    def _on_rollout_start(self) -> None:
        if self._rollout_end is not None:  # the time since the last rollout ended went into the update
            self.update_s = time.perf_counter() - self._rollout_end

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done:
                self.tracker.record_episode(info["sequence"], info["distance"])
                if info["distance"] < self.agent_best:
                    self.agent_best, self.agent_best_at = info["distance"], time.perf_counter()
        if not self.check():
            return False
        if self.locals["n_steps"] + 1 < self.locals["n_rollout_steps"]:
            return True
        if self._rollout_end is None:  # no update measured yet: time a minibatch's gradient instead
            self.update_s = estimate_update_s(self.model)
        return time.perf_counter() + self.update_s <= self.stop_at

    def check(self) -> bool:
        """Report progress when due; False once solved or out of time."""
        now = time.perf_counter()
        if self.progress is not None and now >= self.next_report:
            self.next_report = now + self.every
            t = self.tracker
            self.progress(
                f"{now - t.start:6.1f}s  episodes {t.episodes}  best distance {t.best_distance}  "
                f"solutions {len(t.solutions)}/{t.settings.num_solutions}"
            )
        if self.stall and now - self.agent_best_at > self.stall and self.agent_best > self.tracker.best_distance:
            self.stalled = True
            return False
        return not self.tracker.done and now < self.stop_at


def estimate_update_s(model: PPO) -> float:
    """Seconds the coming PPO update will take: one minibatch's forward and backward pass, timed on the
    rollout collected so far, times the minibatches of an update. Leaves no gradients behind."""
    buffer = model.rollout_buffer
    observations, actions = buffer.observations, buffer.actions
    if not buffer.generator_ready:  # mid-rollout: (steps, envs, ...) arrays, filled up to pos
        observations, actions = observations[: buffer.pos], actions[: buffer.pos]
    observations = observations.reshape(-1, observations.shape[-1])[: model.batch_size]
    if len(observations) == 0:
        return 0.0
    observations = torch.as_tensor(observations)
    actions = torch.as_tensor(actions.reshape(-1)[: len(observations)]).long()
    start = time.perf_counter()
    values, log_prob, entropy = model.policy.evaluate_actions(observations, actions)
    (values.sum() + log_prob.sum() + (entropy.sum() if entropy is not None else 0)).backward()
    model.policy.optimizer.zero_grad()
    per_minibatch = time.perf_counter() - start
    minibatches = -(-buffer.buffer_size * buffer.n_envs // model.batch_size)
    return per_minibatch * model.n_epochs * minibatches


def _local_vec_env(targets: list[Structure], agent: AgentConfig, folding: FoldingModel, n_envs: int) -> DummyVecEnv:
    """``n_envs`` environments over ``targets``, stepped in this process."""
    return DummyVecEnv([functools.partial(RnaDesignEnv, targets, agent.env, folding)] * n_envs)


def make_ppo(
    targets: list[Structure], agent: AgentConfig, folding: FoldingModel, seed: int, vec_env: VecEnv | None = None
) -> PPO:
    """A PPO learner on ``targets`` with the configured network, on the CPU.

    ``vec_env`` replaces the default (``agent.ppo.n_envs`` environments in this process).
    """
    if vec_env is None:
        vec_env = _local_vec_env(targets, agent, folding, agent.ppo.n_envs)
    mean_decisions = float(np.mean([t.n_decisions for t in targets]))
    n_steps, minibatch = agent.ppo.rollout_sizes(mean_decisions, vec_env.num_envs)
    return PPO(
        "MlpPolicy",
        vec_env,
        learning_rate=agent.ppo.learning_rate,
        n_steps=n_steps,
        batch_size=minibatch,
        n_epochs=agent.ppo.n_epochs,
        gamma=agent.ppo.gamma,
        gae_lambda=agent.ppo.gae_lambda,
        clip_range=agent.ppo.clip_range,
        ent_coef=agent.ppo.entropy_coef,
        vf_coef=agent.ppo.vf_coef,
        max_grad_norm=agent.ppo.max_grad_norm,
        policy_kwargs=policy_kwargs(agent),
        seed=seed,
        device="cpu",
        verbose=0,
    )


def sample_episodes(policy, vec_env: VecEnv, on_done: Callable[[int, dict[str, Any]], bool]) -> None:
    """Step ``vec_env`` with actions sampled from ``policy`` (one batched call per step, no learning).

    ``on_done(env_index, info)`` is called for every finished episode; sampling stops when it returns True.
    """
    obs = vec_env.reset()
    while True:
        with torch.no_grad():
            actions, _ = policy.predict(obs, deterministic=False)
        obs, _, dones, infos = vec_env.step(actions)
        for index in np.flatnonzero(dones):
            if on_done(int(index), infos[index]):
                return


def _run_meta_sampling(
    target: Structure,
    agent: AgentConfig,
    state_dict,
    settings: DesignSettings,
    seed: int,
    tracker: _Tracker,
    deadline: float,
    progress: Progress | None,
) -> int:
    vec_env = _local_vec_env([target], agent, settings.folding, settings.sample_batch)
    vec_env.seed(seed)
    policy = sampling_policy(vec_env, agent, state_dict)
    callback = _DesignCallback(tracker, deadline, progress, settings.progress_every)

    def on_done(_: int, info: dict[str, Any]) -> bool:
        tracker.record_episode(info["sequence"], info["distance"])
        return not callback.check()

    sample_episodes(policy, vec_env, on_done)
    return 0


class _NoOptimizer:
    """Stands in for Adam in a policy that only samples: building the first torch optimizer
    imports torch._dynamo, seconds of start-up that a sampling-only design never needs."""

    def __init__(self, params, lr: float, **kwargs):
        pass


def sampling_policy(vec_env: VecEnv, agent: AgentConfig, state_dict: dict[str, torch.Tensor]) -> ActorCriticPolicy:
    """The configured policy network with ``state_dict`` loaded, for sampling only (no optimizer)."""
    policy = ActorCriticPolicy(
        vec_env.observation_space,
        vec_env.action_space,
        lambda _: 0.0,
        optimizer_class=_NoOptimizer,
        **policy_kwargs(agent),
    )
    policy.load_state_dict(state_dict)
    policy.set_training_mode(False)
    return policy


def _run_learna(
    target: Structure,
    agent: AgentConfig,
    settings: DesignSettings,
    seed: int,
    tracker: _Tracker,
    deadline: float,
    progress: Progress | None,
    initial_state: dict[str, torch.Tensor] | None = None,
    stall: float | None = None,
) -> int:
    """PPO on the one target; each restart starts again from ``initial_state`` (or fresh weights).

    An agent is restarted after ``settings.restart_timeout`` seconds without a new solution, or when
    it stalls (see :class:`_DesignCallback`; ``stall`` seconds, None: never)."""
    restarts = 0
    while not tracker.done and time.perf_counter() < deadline:
        stop_at = deadline
        if settings.restart_timeout is not None:
            stop_at = min(deadline, max(tracker.last_solution, time.perf_counter()) + settings.restart_timeout)
        model = make_ppo([target], agent, settings.folding, seed + restarts)
        if initial_state is not None:
            model.policy.load_state_dict(initial_state)
        callback = _DesignCallback(tracker, stop_at, progress, settings.progress_every, stall)
        model.learn(total_timesteps=10**12, callback=callback)
        if tracker.done or time.perf_counter() + callback.update_s >= deadline:
            break  # solved, or out of time (including the time an update would have taken)
        restarts += 1
        if progress is None:
            continue
        if callback.stalled:
            progress(
                f"restart {restarts}: the agent's designs stayed at distance {callback.agent_best} for "
                f"{stall:g}s, worse than the best found ({tracker.best_distance})"
            )
        else:
            progress(f"restart {restarts}: no new solution within {settings.restart_timeout:g}s")
    return restarts


def design(
    target: str | Structure,
    settings: DesignSettings | None = None,
    agent: AgentConfig | None = None,
    *,
    name: str = "target",
    progress: Progress | None = None,
    on_best: OnBest | None = None,
) -> Design:
    """Design sequences for one target.

    Args:
        target: dot-bracket string or parsed :class:`Structure`.
        settings: budget, mode and seed (defaults: the default mode, 60 s, fresh seed).
        agent: network and training configuration for ``learna`` mode; defaults to its preset. The
            meta modes take theirs from the policy file.
        name: identifier carried into the result.
        progress: called with one line of text every ``settings.progress_every`` seconds.
        on_best: called whenever the best design improves (the design is not yet re-verified then).

    Returns:
        A :class:`Design`, whose ``sequence`` was folded again after the run.

    Raises:
        InvalidStructureError: ``target`` is not a valid dot-bracket string.
        PolicyFileError: a meta mode's policy file is missing or unreadable.
        ValueError: ``agent`` given for a meta mode.
    """
    start = time.perf_counter()
    settings = settings or DesignSettings()
    structure = target if isinstance(target, Structure) else parse_structure(target)
    seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**31)
    seed_everything(seed)
    deadline = start + settings.time_limit
    tracker = _Tracker(structure, settings, start, deadline, seed, on_best)
    if settings.mode == "learna":
        agent = agent or load_agent_config(MODES[settings.mode])
        restarts = _run_learna(
            structure, agent, settings, seed, tracker, deadline, progress, stall=settings.stall_restart or None
        )
    else:
        if agent is not None:
            raise ValueError(f"mode {settings.mode} takes its configuration from the policy file, not from a config")
        policy = load_policy(settings.policy or default_policy_path())
        if settings.mode == "meta-learna":
            restarts = _run_meta_sampling(
                structure, policy.agent, policy.state_dict, settings, seed, tracker, deadline, progress
            )
        else:  # meta-learna-adapt: update often, as learna-fast does, from the pre-trained weights
            fast = load_agent_config("learna-fast").ppo
            agent = dataclasses.replace(
                policy.agent, ppo=dataclasses.replace(policy.agent.ppo, batch_size=fast.batch_size, n_envs=fast.n_envs)
            )
            restarts = _run_learna(
                structure, agent, settings, seed, tracker, deadline, progress, initial_state=policy.state_dict
            )

    sequence = tracker.solutions[0] if tracker.solutions else tracker.best_sequence
    elapsed = time.perf_counter() - start
    if not sequence:  # not even one episode finished within the budget
        return Design(
            name,
            structure.dot_bracket,
            "",
            "",
            len(structure),
            False,
            elapsed,
            seed,
            settings.mode,
            episodes=tracker.episodes,
            restarts=restarts,
        )
    check = check_design(sequence, structure, settings.folding, unique=True)
    return Design(
        name=name,
        target=structure.dot_bracket,
        sequence=sequence,
        structure=check.structure,
        distance=check.distance,
        solved=check.solved,
        time_s=tracker.solved_at if tracker.solved_at is not None else elapsed,
        seed=seed,
        mode=settings.mode,
        unique_mfe=bool(check.unique),
        episodes=tracker.episodes,
        restarts=restarts,
        solutions=list(tracker.solutions),
    )
