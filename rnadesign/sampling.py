"""The sampling runner (``meta-learna``): designs drawn from a pre-trained policy, no learning."""

from __future__ import annotations

from typing import Any

from .agent import local_vec_env, sample_episodes, sampling_policy, seed_everything
from .config import AgentConfig
from .policy_file import PolicyFile
from .state import DesignRun

__all__ = ["run_sampling"]


def run_sampling(run: DesignRun, agent: AgentConfig, policy: PolicyFile) -> None:
    """Sample ``settings.sample_batch`` episodes per policy call until the run is done or out of time."""
    seed_everything(run.seed)
    vec_env = local_vec_env([run.target], agent, run.settings.folding, run.settings.sample_batch)
    vec_env.seed(run.seed)
    network = sampling_policy(vec_env, agent, policy.state_dict)

    def on_done(_: int, info: dict[str, Any]) -> bool:
        run.record_episode(info["sequence"], info["distance"], info.get("folds", 1))
        return run.should_stop()

    sample_episodes(network, vec_env, on_done)
