"""The sampling runner (``meta-learna``): designs drawn from a pre-trained policy, no learning.

The policy runs in NumPy (:class:`~rnadesign.rl.numpy_policy.NumpyPolicy`): sampling never imports
torch or stable-baselines3, whose imports alone (1-1.5 s here) were most of the time a short design
took. A network NumPy does not implement falls back to the torch policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..config import AgentConfig
from ..rl.env import RnaDesignEnv
from ..rl.numpy_policy import NumpyPolicy
from ..rl.policy_file import PolicyFile
from ..run.state import DesignRun
from ..search.walk import adaptive_walk

__all__ = ["policy_episodes", "run_policy_only", "run_sampling"]


def run_sampling(run: DesignRun, agent: AgentConfig, policy: PolicyFile) -> None:
    """Sample ``settings.sample_batch`` episodes per policy call until the run is done or out of time."""
    if not NumpyPolicy.supports(agent):
        _run_sampling_torch(run, agent, policy)
        return
    for info in policy_episodes(run, agent, policy):
        run.record_episode(info["sequence"], info["distance"], info["folds"], info["folded"], refine=adaptive_walk)
        if run.should_stop():
            return


def run_policy_only(run: DesignRun, agent: AgentConfig, policy: PolicyFile) -> None:
    """``policy`` mode: the pre-trained policy's designs alone, no refinement walk (an ablation)."""
    for info in policy_episodes(run, agent, policy):
        run.record_episode(info["sequence"], info["distance"], info["folds"], info["folded"])
        if run.should_stop():
            return


def policy_episodes(
    run: DesignRun, agent: AgentConfig, policy: PolicyFile, network: NumpyPolicy | None = None
) -> Iterator[dict[str, Any]]:
    """Finished episodes' ``info`` (design, its distance, folds spent), sampled from the policy in NumPy,
    ``settings.sample_batch`` environments at a time, for as long as the caller takes them.

    The environments fold within ``run.clock``; an episode past it comes back with ``folded`` False.
    ``network``: the policy already built in NumPy (None: build it from ``policy``).
    """
    if network is None:
        network = NumpyPolicy(agent, policy.state_dict)
    rng = np.random.default_rng([run.seed, 1])  # the actions' own stream, apart from the run's search
    envs = [
        RnaDesignEnv([run.target], agent.env, run.settings.folding, deadline=run.clock, constraints=run.constraints)
        for _ in range(run.settings.sample_batch)
    ]
    # Env i starts from seed + i, as stable-baselines3's VecEnv.seed(seed) does.
    observations = np.stack([env.reset(seed=run.seed + i)[0] for i, env in enumerate(envs)])
    while True:
        # Under constraints only the actions the mask allows are drawn (the rest get probability 0).
        masks = None if run.constraints is None else np.stack([env.action_masks() for env in envs])
        actions = network.sample(observations, rng, masks)
        for i, (env, action) in enumerate(zip(envs, actions)):
            observation, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                yield info
                observation, _ = env.reset()
            observations[i] = observation


def _run_sampling_torch(run: DesignRun, agent: AgentConfig, policy: PolicyFile) -> None:
    from ..rl.agent import local_vec_env, sample_episodes, sampling_policy, seed_everything

    seed_everything(run.seed)
    # SB3's policy cannot mask its actions: the environments map a disallowed one to an allowed one.
    vec_env = local_vec_env(
        [run.target], agent, run.settings.folding, run.settings.sample_batch, run.clock, run.constraints
    )
    vec_env.seed(run.seed)
    network = sampling_policy(vec_env, agent, policy.state_dict)

    def on_done(_: int, info: dict[str, Any]) -> bool:
        run.record_episode(info["sequence"], info["distance"], info["folds"], info["folded"], refine=adaptive_walk)
        return run.should_stop()

    sample_episodes(network, vec_env, on_done)
