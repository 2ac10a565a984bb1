"""Design modes: one registry that the API, the command line and the benchmark all consult.

A mode is data: what runs it (a ``module:function`` imported only when the mode runs, so the
command line starts without torch), where its agent comes from (a preset, or a pre-trained policy
file), the PPO values it overrides, and which options apply to it. Adding a mode means adding one
entry here and one runner function.

A runner is called as ``runner(run, agent, policy)`` with the :class:`~rnadesign.run.state.DesignRun`
(the target, budget, seeded generator, best design so far), the resolved
:class:`~rnadesign.config.AgentConfig` (None for modes without an agent) and the loaded
:class:`~rnadesign.rl.policy_file.PolicyFile` (None unless the mode uses one). It records designs on
``run`` and returns when ``run`` says it is done or out of time.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .run.settings import DEFAULT_MODE

if TYPE_CHECKING:
    from .config import AgentConfig, SearchConfig
    from .rl.policy_file import PolicyFile

__all__ = ["DEFAULT_MODE", "MODES", "Mode", "get_mode"]


@dataclass(frozen=True)
class Mode:
    """One way of designing a sequence for a target."""

    name: str
    description: str
    """One line for ``--help`` and the README."""
    runner: str
    """``module:function`` that runs the mode (imported when the mode runs)."""
    preset: str | None = None
    """Agent preset used when no configuration is given (modes that train an agent from scratch)."""
    uses_policy: bool = False
    """The agent and its starting weights come from a pre-trained policy file (``--policy``)."""
    policy: str = "default"
    """The shipped policy (:data:`~rnadesign.rl.policy_file.SHIPPED_POLICIES`) used without ``--policy``."""
    ppo_overrides: Mapping[str, Any] = field(default_factory=dict)
    """PPO values that replace the policy file's (or preset's) for this mode."""
    stall_restart: bool = False
    """The mode honours ``DesignSettings.stall_restart``."""
    restarts: bool = False
    """The mode honours ``DesignSettings.restart_timeout`` (it learns, so a fresh start can help)."""
    searches: bool = False
    """The mode runs the ensemble-aware search, configured by ``DesignSettings.search``."""
    search_defaults: Mapping[str, Any] = field(default_factory=dict)
    """The mode's values of the :class:`~rnadesign.config.SearchConfig` fields whose default is None (the
    mode's own): :meth:`search_config` puts them where a configuration leaves None."""

    def search_config(self, config: SearchConfig) -> SearchConfig:
        """``config`` with the mode's own values where it leaves None (``adapt_rate``: 0 where the mode has
        none, i.e. no adaptation)."""
        unset = {f.name for f in dataclasses.fields(config) if getattr(config, f.name) is None}
        values = {name: self.search_defaults.get(name, 0.0) for name in unset}
        return dataclasses.replace(config, **values) if values else config

    @property
    def accepts_config(self) -> bool:
        """An agent configuration (``--config``) applies: the mode trains an agent from a preset."""
        return self.preset is not None

    def load_runner(self) -> Callable[..., None]:
        module, _, function = self.runner.partition(":")
        return getattr(importlib.import_module(module), function)

    def resolve(
        self, config: str | Path | AgentConfig | None = None, policy: str | Path | None = None
    ) -> tuple[AgentConfig | None, PolicyFile | None]:
        """The agent and the policy file this mode runs with.

        Args:
            config: a preset name, a JSON file or an :class:`AgentConfig` (modes with a preset only).
            policy: a policy file (modes that use one; None: the one shipped with the package).

        Raises:
            ConfigError: an option this mode does not take.
            PolicyFileError: the policy file is missing or unreadable.
        """
        from .config import AgentConfig, load_agent_config

        if config is not None and not self.accepts_config:
            source = "the policy file (--policy)" if self.uses_policy else "nowhere: it has no agent"
            raise ConfigError(
                f"mode {self.name} takes no agent configuration (--config); its agent comes from {source}"
            )
        if policy is not None and not self.uses_policy:
            raise ConfigError(f"mode {self.name} uses no pre-trained policy (--policy)")
        agent: AgentConfig | None = None
        policy_file = None
        if self.uses_policy:
            from .rl.policy_file import load_policy, policy_path

            policy_file = load_policy(policy_path(policy, self.policy))
            agent = policy_file.agent
        elif self.preset is not None:
            agent = config if isinstance(config, AgentConfig) else load_agent_config(config or self.preset)
        if agent is not None and self.ppo_overrides:
            agent = dataclasses.replace(agent, ppo=dataclasses.replace(agent.ppo, **self.ppo_overrides))
        return agent, policy_file


MODES: Mapping[str, Mode] = MappingProxyType(
    {
        mode.name: mode
        for mode in (
            Mode(
                "meta-learna",
                "samples designs from a pre-trained policy, no learning (Meta-LEARNA)",
                runner="rnadesign.runners.sampling:run_sampling",
                uses_policy=True,
            ),
            Mode(
                "meta-learna-adapt",
                "starts from the pre-trained weights and keeps learning on the target (Meta-LEARNA-Adapt)",
                runner="rnadesign.runners.learning:run_learning",
                uses_policy=True,
                # Update as often as the learna-fast preset does (its ppo.batch_size and ppo.n_envs):
                # the paper's 123 episodes per update leave a 60 s design almost no updates.
                ppo_overrides=MappingProxyType({"batch_size": 16, "n_envs": 16}),
                restarts=True,
            ),
            Mode(
                "learna",
                "trains a fresh PPO agent on the one target (LEARNA)",
                runner="rnadesign.runners.learning:run_learning",
                preset="learna-fast",
                stall_restart=True,
                restarts=True,
            ),
            Mode(
                "hybrid",
                "the pre-trained policy's designs seed an ensemble-aware population search (MFE = target wins)",
                runner="rnadesign.runners.hybrid:run_hybrid",
                uses_policy=True,
                # The expert-iteration policy: pooled over two pairs of Eterna100-V2 runs at 30 s it solved
                # 81.0 a run against the PPO policy's 76.5 (p = 0.007), level on Rfam (README, session 14).
                policy="expert",
                searches=True,
                # Online adaptation of the move policy, whose prior is the network's: pooled over two pairs of
                # Eterna100-V2 runs at 60 s, 87.0 a run against 83.5 without it (p = 0.03; README, session 16);
                # and the push away from stale lineages, 88.0 against 87.0 (p = 0.41; session 18's rule: +1.0).
                search_defaults=MappingProxyType({"adapt_rate": 0.5, "adapt_avoid": 0.5}),
            ),
            Mode(
                "search",
                "the ensemble-aware search alone, from a designer's start (GC pairs, A loops): no policy",
                runner="rnadesign.runners.hybrid:run_search",
                searches=True,
            ),
            Mode(
                "policy",
                "the pre-trained policy's designs alone: no refinement walk (an ablation of meta-learna)",
                runner="rnadesign.runners.sampling:run_policy_only",
                uses_policy=True,
            ),
            Mode(
                "rnainverse",
                "ViennaRNA's RNAinverse from random starts, restarted until solved (a baseline, no agent)",
                runner="rnadesign.runners.baselines:run_rnainverse",
            ),
        )
    }
)


def get_mode(name: str) -> Mode:
    """The registered mode ``name``.

    Raises:
        ConfigError: no such mode (the message lists the known ones).
    """
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown mode {name!r}; choose one of {', '.join(MODES)}") from None
