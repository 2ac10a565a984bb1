"""The learning runners: PPO on the one target (``learna``, and ``meta-learna-adapt`` from pre-trained weights).

An agent learns until the run is done or out of time; it is replaced by a fresh one (a new seed,
or the pre-trained weights again) after ``restart_timeout`` seconds without a new solution, or,
where the mode allows it, when it stalls worse than the best design found (see
:class:`DesignCallback`).
"""

from __future__ import annotations

import logging
import time

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

from ..config import AgentConfig
from ..rl.agent import make_ppo, seed_everything
from ..rl.policy_file import PolicyFile, PolicyFileError
from ..run.state import DesignRun
from ..search.walk import adaptive_walk

__all__ = ["DesignCallback", "estimate_update_s", "run_learning"]

_log = logging.getLogger("rnadesign.design")


class DesignCallback(BaseCallback):
    """Feeds finished episodes to the run and stops learning at ``stop_at`` or when the run is done.

    SB3 cannot interrupt a PPO update once it starts, and with big batches, many epochs or an LSTM
    one update takes seconds. So the rollout that would trigger an update is cut short when the last
    update's duration says this one would end past ``stop_at``.

    With ``stall`` seconds, learning also stops (``stalled`` becomes True) when the agent's own best
    design has not improved for that long and is worse than the best design the run holds.
    """

    def __init__(self, run: DesignRun, stop_at: float, stall: float | None = None):
        super().__init__()
        self.run = run
        self.stop_at = stop_at
        self.stall = stall
        self.update_s = 0.0
        """Seconds the last PPO update took (0 before the first)."""
        self._rollout_end: float | None = None
        self.agent_best = len(run.target) + 1
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
                self.run.record_episode(
                    info["sequence"], info["distance"], info["folds"], info["folded"], refine=adaptive_walk
                )
                if info["distance"] < self.agent_best:
                    self.agent_best, self.agent_best_at = info["distance"], time.perf_counter()
        if not self.check():
            return False
        if self.locals["n_steps"] + 1 < self.locals["n_rollout_steps"]:
            return True
        if self._rollout_end is None:  # no update measured yet: time a minibatch's gradient instead
            self.update_s = estimate_update_s(self.model)
        return time.perf_counter() + self.update_s <= self.stop_at and self.run.clock.fits(self.update_s)

    def check(self) -> bool:
        """False once the run is done, out of time, or (with ``stall``) this agent has stalled."""
        now = time.perf_counter()
        if self.stall and now - self.agent_best_at > self.stall and self.agent_best > self.run.best_distance:
            self.stalled = True
            return False
        return not self.run.should_stop(self.stop_at)


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


def run_learning(run: DesignRun, agent: AgentConfig, policy: PolicyFile | None = None) -> None:
    """PPO on ``run.target``; each restart starts again from the policy file's weights (or fresh ones).

    An agent is restarted after ``settings.restart_timeout`` seconds without a new solution, or, in a
    mode that allows it, when it stalls (``settings.stall_restart`` seconds; see :class:`DesignCallback`).
    """
    settings = run.settings
    seed_everything(run.seed)
    stall = settings.stall_restart or None  # 0 for a mode the registry says ignores it (design())
    initial_state = None
    if policy is not None:
        initial_state = {k: torch.as_tensor(v) for k, v in policy.state_dict.items()}
    while not run.should_stop():
        stop_at = run.deadline
        if settings.restart_timeout is not None:
            stop_at = min(run.deadline, max(run.last_solution, time.perf_counter()) + settings.restart_timeout)
        seed = (run.seed + run.restarts) % 2**32
        model = make_ppo([run.target], agent, settings.folding, seed, deadline=run.clock, constraints=run.constraints)
        if initial_state is not None:
            try:
                model.policy.load_state_dict(initial_state)
            except RuntimeError as err:  # missing or misshapen tensors: the file's weights are another network's
                reason = str(err).strip().splitlines()[0][:300]
                raise PolicyFileError(f"the policy file's weights do not fit its network: {reason}") from None
        callback = DesignCallback(run, stop_at, stall)
        model.learn(total_timesteps=10**12, callback=callback)
        if run.done or not run.clock.fits(callback.update_s + run.clock.fold_s):
            break  # solved, or out of time (an update and one more episode's fold would not fit)
        run.restarts += 1
        if callback.stalled:
            _log.info(
                "[%s] restart %d: the agent's designs stayed at distance %d for %gs, worse than the best found (%d)",
                run.name,
                run.restarts,
                callback.agent_best,
                stall,
                run.best_distance,
            )
        else:
            _log.info("[%s] restart %d: no new solution within %gs", run.name, run.restarts, settings.restart_timeout)
