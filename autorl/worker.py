"""What one BOHB evaluation does: a configuration, a budget, a loss.

``learna`` search: the budget is seconds of LEARNA design per validation target; ``meta`` search:
the budget is seconds of meta-training, then a fixed number of sampled episodes per validation
target. Either way the loss is the mean over validation targets of the best normalised Hamming
distance reached (0 = every target solved), and ``info`` holds plain Python values only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpbandster.core.worker import Worker

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.config import AgentConfig
from rnadesign.folding import DEFAULT_MODEL, FoldingModel, vienna_version
from rnadesign.structure import Structure

from .compat import plain
from .space import MODES, to_agent_config

__all__ = ["DesignWorker", "Task", "evaluate", "evaluate_agent", "warm_up"]


@dataclass(frozen=True)
class Task:
    """What every evaluation of a search is measured on (the same for all workers of a run)."""

    mode: str
    """``learna`` or ``meta`` (see :data:`autorl.space.MODES`)."""
    targets: list[Structure]
    """Validation targets: the loss is measured on these."""
    train: list[Structure] = field(default_factory=list)
    """Meta-training structures (``meta`` only)."""
    seed: int = 0
    """``learna``: target ``i`` is designed with seed ``seed + i``; ``meta``: the seed of training and
    sampling. The same under every configuration, so configurations differ by their settings alone."""
    folding: FoldingModel = DEFAULT_MODEL
    refine_share: float = 0.5
    """``learna``: the design loop's local-search share, as ``rnadesign design`` uses it (0: the agent alone)."""
    sampling_episodes: int = 4
    """``meta``: episodes sampled per validation target after training."""
    env_workers: int = 1
    """``meta``: environment processes of each meta-training."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown search mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if not self.targets:
            raise ValueError("no validation targets")
        if self.mode == "meta" and not self.train:
            raise ValueError("a meta search needs training structures")
        if not 0 <= self.refine_share < 1:
            raise ValueError(f"refine share must be in [0, 1), got {self.refine_share}")
        if self.sampling_episodes < 1 or self.env_workers < 1:
            raise ValueError("sampling episodes and environment workers must be at least 1")

    @classmethod
    def load(cls, mode: str, targets: str, train: str | None = None, **kwargs: Any) -> Task:
        """Read targets (and training structures) from dataset names or files.

        Raises:
            ValueError: unknown dataset, unreadable file or malformed structure (the message says which).
        """
        validation = [t.parse(warn=False) for t in load_dataset(targets).targets]
        training = [t.parse(warn=False) for t in load_dataset(train).targets] if mode == "meta" and train else []
        return cls(mode=mode, targets=validation, train=training, **kwargs)


def _evaluate_learna(agent: AgentConfig, budget: float, task: Task) -> dict[str, Any]:
    from rnadesign.design import DesignSettings, design

    distances, solved, episodes, sequences = [], 0, 0, []
    for index, target in enumerate(task.targets):
        settings = DesignSettings(
            mode="learna",
            time_limit=budget,
            seed=task.seed + index,
            folding=task.folding,
            refine_share=task.refine_share,
            progress_every=float("inf"),
        )
        result = design(target, settings, agent, name=str(index))
        distances.append(result.distance / len(target))
        solved += result.solved
        episodes += result.episodes
        sequences.append(result.sequence)
    return {"distances": distances, "solved": solved, "episodes": episodes, "sequences": sequences}


def _evaluate_meta(agent: AgentConfig, budget: float, task: Task, directory: Path) -> dict[str, Any]:
    from rnadesign.meta import MetaTrainSettings, meta_train

    settings = MetaTrainSettings(
        time_budget=budget,
        workers=task.env_workers,
        seed=task.seed,
        checkpoint_every=float("inf"),
        validate_every=float("inf"),  # validate once, at the end: that is the measurement
        validation_episodes=task.sampling_episodes,
        report_every=float("inf"),
    )
    card = meta_train(task.train, task.targets, agent, directory, settings, folding=task.folding)
    validation = card["validation"]
    return {
        "solved": int(validation["solved"]),
        "episodes": int(card["episodes"]),
        "mean_distance": float(validation["mean_distance"]),
        "policy": str(directory / "policy.pt"),
        "timesteps": int(card["timesteps"]),
    }


def evaluate(config: dict[str, Any], budget: float, task: Task, directory: str | Path | None = None) -> dict[str, Any]:
    """One evaluation: ``{"loss": float, "info": {...}}`` with plain Python values only.

    Args:
        config: a configuration of :func:`autorl.space.search_space`.
        budget: seconds of design per target (``learna``) or of meta-training (``meta``).
        task: targets and fixed settings.
        directory: where a ``meta`` evaluation writes its policy (required there).
    """
    return evaluate_agent(to_agent_config(config), budget, task, directory)


def evaluate_agent(
    agent: AgentConfig, budget: float, task: Task, directory: str | Path | None = None
) -> dict[str, Any]:
    """:func:`evaluate` for any agent configuration, e.g. a preset to compare a search's incumbent with."""
    start = time.perf_counter()
    if task.mode == "learna":
        result = _evaluate_learna(agent, budget, task)
        loss = sum(result["distances"]) / len(result["distances"])
    else:
        if directory is None:
            raise ValueError("a meta evaluation needs a directory for its policy")
        result = _evaluate_meta(agent, budget, task, Path(directory))
        loss = result.pop("mean_distance")
    info = {
        **result,
        "targets": len(task.targets),
        "wall_time_s": round(time.perf_counter() - start, 3),
        "budget": float(budget),
        "vienna_version": vienna_version(),
    }
    return {"loss": float(loss), "info": plain(info)}


def warm_up() -> None:
    """Pay one-off start-up costs before the first evaluation, so it is not charged to one configuration.

    torch imports ``torch._dynamo`` when the first optimizer is built: seconds that would otherwise
    come out of the first design's budget in every worker process.
    """
    import torch

    import rnadesign.design  # noqa: F401  (stable-baselines3, gymnasium, ViennaRNA)

    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])


class DesignWorker(Worker):
    """An hpbandster worker that evaluates configurations on a :class:`Task`.

    Meta evaluations write their policies under ``<working_directory>/evaluations/<run id>/`` (the
    master's output directory, which a cluster run shares between machines).
    """

    def __init__(self, task: Task, **kwargs: Any):
        super().__init__(**kwargs)
        self.task = task
        warm_up()

    def compute(self, config_id, config, budget, working_directory, **kwargs):
        directory = None
        if self.task.mode == "meta":
            name = "_".join(str(int(i)) for i in config_id) + f"_b{float(budget):g}"
            directory = Path(working_directory) / "evaluations" / str(self.run_id) / name
        return evaluate(dict(config), float(budget), self.task, directory)
