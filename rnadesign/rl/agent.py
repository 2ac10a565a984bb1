"""The agent layer: PPO learners and sampling policies built from an :class:`AgentConfig`.

Used by the design runners (``learning.py``, ``sampling.py``) and by meta-training; knows nothing
of design runs, deadlines or solutions.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from ..config import AgentConfig
from ..model.folding import FoldingModel
from ..model.structure import Structure
from ..run.clock import Deadline
from .env import RnaDesignEnv
from .policies import policy_kwargs

if TYPE_CHECKING:
    from ..model.constraints import BoundConstraints
    from .distributed import Group

__all__ = ["local_vec_env", "make_ppo", "sample_episodes", "sampling_policy", "seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def local_vec_env(
    targets: list[Structure],
    agent: AgentConfig,
    folding: FoldingModel,
    n_envs: int,
    deadline: Deadline | None = None,
    constraints: BoundConstraints | None = None,
) -> DummyVecEnv:
    """``n_envs`` environments over ``targets``, stepped in this process, folding within ``deadline``
    (with ``constraints``, bound to the one target, placing only what they allow)."""
    make = functools.partial(RnaDesignEnv, targets, agent.env, folding, deadline=deadline, constraints=constraints)
    return DummyVecEnv([make] * n_envs)


def make_ppo(
    targets: list[Structure],
    agent: AgentConfig,
    folding: FoldingModel,
    seed: int,
    vec_env: VecEnv | None = None,
    deadline: Deadline | None = None,
    group: Group | None = None,
    constraints: BoundConstraints | None = None,
) -> PPO:
    """A PPO learner on ``targets`` with the configured network, on the CPU.

    ``vec_env`` replaces the default (``agent.ppo.n_envs`` environments in this process, folding
    within ``deadline``); ``targets`` still sets the rollout size. With ``group`` (distributed
    meta-training), every optimizer step averages the gradients of the group's ranks and clips the
    average (:class:`~rnadesign.rl.distributed.AveragingAdam`); SB3's own clip of the local gradient is off.
    With ``constraints`` (one target) the environments place only allowed nucleotides: SB3 has no action
    masking, so a disallowed action is mapped to an allowed one (:func:`~rnadesign.rl.env.action_table`).
    """
    if vec_env is None:
        vec_env = local_vec_env(targets, agent, folding, agent.ppo.n_envs, deadline, constraints)
    mean_decisions = float(np.mean([t.n_decisions for t in targets]))
    n_steps, minibatch = agent.ppo.rollout_sizes(mean_decisions, vec_env.num_envs)
    kwargs = policy_kwargs(agent)
    max_grad_norm = agent.ppo.max_grad_norm
    if group is not None:
        from .distributed import AveragingAdam

        kwargs["optimizer_class"] = AveragingAdam
        # SB3 adds Adam's eps=1e-5 only for plain Adam: give it here so one rank and many agree.
        kwargs["optimizer_kwargs"] = {"group": group, "max_grad_norm": max_grad_norm, "eps": 1e-5}
        max_grad_norm = float("inf")  # SB3 clips before step(); the average is clipped in step()
    model = PPO(
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
        max_grad_norm=max_grad_norm,
        policy_kwargs=kwargs,
        seed=seed,
        device="cpu",
        verbose=0,
    )
    # SB3 otherwise makes a logger at learn(), and with it an empty /tmp/SB3-<time> folder per model:
    # thousands of them after a benchmark or a search. Nothing reads SB3's log here.
    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


class _NoOptimizer:
    """Stands in for Adam in a policy that only samples: building the first torch optimizer
    imports torch._dynamo, seconds of start-up that a sampling-only policy never needs."""

    def __init__(self, params, lr: float, **kwargs):
        pass


def sampling_policy(vec_env: VecEnv, agent: AgentConfig, state_dict: dict[str, Any]) -> ActorCriticPolicy:
    """The configured policy network with ``state_dict`` loaded, for sampling only (no optimizer).

    ``state_dict`` values may be tensors or NumPy arrays.
    """
    policy = ActorCriticPolicy(
        vec_env.observation_space,
        vec_env.action_space,
        lambda _: 0.0,
        optimizer_class=_NoOptimizer,
        **policy_kwargs(agent),
    )
    policy.load_state_dict({k: torch.as_tensor(v) for k, v in state_dict.items()})
    policy.set_training_mode(False)
    return policy


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
