"""The pieces of one meta-training, each its own small class in the way stable-baselines3 splits its
callbacks (``CheckpointCallback``, ``EvalCallback``, composed in a ``CallbackList``): the clock and counts
the others share (:class:`MetaProgress`), validation (:class:`ValidationCallback`), checkpoints
(:class:`CheckpointCallback`), progress lines and TensorBoard (:class:`LoggingCallback`), and the SB3
callback that composes them once per step (:class:`MetaCallback`). Training time excludes the time spent
validating and checkpointing. In a group of ranks they agree, on rank 0's clock, whether to validate,
checkpoint or stop; rank 0 alone writes files and logs.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from ..config import AgentConfig
from ..errors import ConfigError
from ..model.folding import FoldingModel
from ..model.structure import Structure
from .agent import sample_episodes
from .distributed import DEFAULT_TIMEOUT_S, Group
from .env import RnaDesignEnv
from .policy_file import atomic_torch_save

__all__ = [
    "CheckpointCallback",
    "LoggingCallback",
    "MetaCallback",
    "MetaProgress",
    "MetaTrainSettings",
    "ValidationCallback",
    "evaluate",
]

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_FORMAT = "rnadesign-checkpoint-1"
_log = logging.getLogger("rnadesign.rl.meta")


@dataclass(frozen=True)
class MetaTrainSettings:
    """Budget and bookkeeping of one meta-training run."""

    time_budget: float
    """Seconds of training in all, summed over resumed runs."""
    workers: int = 1
    """Environment processes stepped in parallel."""
    seed: int = 0
    checkpoint_every: float = 300.0
    """Seconds between checkpoints."""
    validate_every: float = 600.0
    """Seconds between validations (and one at the end)."""
    validation_episodes: int = 4
    """Episodes sampled per validation target (no learning)."""
    report_every: float = 30.0
    """Seconds between progress lines."""
    dist_timeout: float = DEFAULT_TIMEOUT_S
    """Distributed training: seconds a rank waits for the others in any collective before it gives up."""

    def __post_init__(self) -> None:
        if not self.time_budget > 0:
            raise ConfigError(f"time budget must be positive, got {self.time_budget}")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be in [0, 2**32), got {self.seed}")
        if self.validation_episodes < 1:
            raise ConfigError("validation_episodes must be at least 1")
        if not self.dist_timeout > 0:
            raise ConfigError(f"the distributed timeout must be positive, got {self.dist_timeout}")


def evaluate(
    policy, targets: list[Structure], agent: AgentConfig, folding: FoldingModel, episodes: int, seed: int
) -> dict[str, float]:
    """Sample ``episodes`` designs per target from ``policy`` (no learning, all targets batched).

    Returns targets solved by any episode and the mean over targets of the best normalised distance.
    """
    vec_env = DummyVecEnv([functools.partial(RnaDesignEnv, [t], agent.env, folding) for t in targets])
    vec_env.seed(seed)
    counts = [0] * len(targets)
    best = [1.0] * len(targets)

    def on_done(index: int, info: dict[str, Any]) -> bool:
        if counts[index] < episodes:
            counts[index] += 1
            best[index] = min(best[index], info["distance"] / len(targets[index]))
        return min(counts) >= episodes

    sample_episodes(policy, vec_env, on_done)
    vec_env.close()
    return {"solved": sum(b == 0 for b in best), "n_targets": len(targets), "mean_distance": float(np.mean(best))}


class MetaProgress:
    """The clock and the counts of one meta-training, shared by its callbacks: training time excludes the
    time they pause it for (validation, checkpoints)."""

    def __init__(self, settings: MetaTrainSettings, state: dict[str, Any], group: Group | None = None):
        self.settings = settings
        self.group = group
        self.root = group is None or group.rank == 0
        """Whether this process writes files and logs (rank 0, or the only one)."""
        self.size = 1 if group is None else group.size
        self.episodes = int(state.get("episodes", 0))
        """Episodes finished on all ranks (in a group, as of the last agreement)."""
        self._unshared_episodes = 0
        self.timesteps_before = int(state.get("timesteps", 0))
        self.elapsed_before = float(state.get("elapsed_s", 0.0))
        self.validations = list(state.get("validations", []))
        self.start = time.perf_counter()
        self.paused = 0.0
        """Seconds spent validating and checkpointing since ``start`` (not training)."""

    @property
    def elapsed(self) -> float:
        """Seconds of training, over this and earlier (resumed) runs."""
        return self.elapsed_before + time.perf_counter() - self.start - self.paused

    def pause(self, started: float) -> None:
        """Take the seconds since ``started`` out of the training time."""
        self.paused += time.perf_counter() - started

    def timesteps(self, model) -> int:
        """Environment steps of all ranks, over this and earlier (resumed) runs (every rank steps alike)."""
        return self.timesteps_before + (model.num_timesteps - self.timesteps_before) * self.size

    def count_episodes(self, n: int) -> None:
        if self.group is None:
            self.episodes += n
        else:
            self._unshared_episodes += n

    def agree(self, *flags: bool) -> list[bool]:
        """In a group: sum the episodes finished since the last call, and return rank 0's ``flags`` on every rank."""
        if self.group is None:
            return list(flags)
        mine = [float(self._unshared_episodes)] + [float(bool(f) and self.root) for f in flags]
        shared = self.group.all_reduce(torch.tensor(mine, dtype=torch.float64), "agreeing on the next step")
        self.episodes += int(shared[0])
        self._unshared_episodes = 0
        return [bool(x) for x in shared[1:]]


class LoggingCallback:
    """Progress lines every ``settings.report_every`` seconds, and each validation as a log line and
    TensorBoard scalars (rank 0 only)."""

    #: The first progress line comes this soon, whatever the interval: a user must see that training started.
    FIRST_REPORT_S = 5.0

    def __init__(self, progress: MetaProgress, out: Path):
        self.progress, self.out = progress, out
        self.episodes_at_start = progress.episodes
        self.next_report = progress.start + min(progress.settings.report_every, self.FIRST_REPORT_S)

    def on_step(self, model, now: float) -> None:
        progress = self.progress
        if now < self.next_report or not progress.root:
            return
        self.next_report = now + progress.settings.report_every
        budget = progress.settings.time_budget
        rate = (progress.episodes - self.episodes_at_start) / max(now - progress.start - progress.paused, 1e-9)
        last = progress.validations[-1] if progress.validations else None
        score = f"validation solved {last['solved']}/{last['n_targets']}" if last else "no validation yet"
        _log.info(
            "%7.0fs  steps %d  episodes %d (%.1f/s)  %s  time left %.0fs",
            progress.elapsed,
            progress.timesteps(model),
            progress.episodes,
            rate,
            score,
            max(budget - progress.elapsed, 0),
            extra={"progress": ("meta-train", round(min(progress.elapsed, budget)), round(budget))},
        )

    def on_validation(self, row: dict[str, Any]) -> None:
        self._tensorboard(row)
        _log.info(
            "validation at %.0fs: solved %d/%d, mean distance %.4f (%.0fs)",
            row["elapsed_s"],
            row["solved"],
            row["n_targets"],
            row["mean_distance"],
            row["validation_s"],
        )

    def _tensorboard(self, row: dict[str, Any]) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is a dependency; a broken install should not stop training
            return
        with SummaryWriter(str(self.out / "tensorboard")) as writer:
            step = row["timesteps"]
            writer.add_scalar("validation/solved", row["solved"], step)
            writer.add_scalar("validation/mean_distance", row["mean_distance"], step)
            writer.add_scalar("train/episodes", row["episodes"], step)


class ValidationCallback:
    """Every ``settings.validate_every`` seconds of training, the policy's score on the validation targets
    (:func:`evaluate`), appended to ``out/validation.csv``; in a group each rank scores a share of them."""

    def __init__(
        self,
        progress: MetaProgress,
        out: Path,
        agent: AgentConfig,
        validation: list[Structure],
        folding: FoldingModel,
        logger: LoggingCallback,
    ):
        self.progress, self.out, self.agent = progress, out, agent
        self.validation, self.folding, self.logger = validation, folding, logger
        self.last_validation_at = progress.elapsed  # training seconds at the last validation (or the start)

    def due(self) -> bool:
        return self.progress.elapsed - self.last_validation_at >= self.progress.settings.validate_every

    def _score(self, model) -> dict[str, Any]:
        """The validation score; in a group each rank samples its share of the targets and the counts are summed."""
        group, settings = self.progress.group, self.progress.settings
        if group is None:
            return evaluate(
                model.policy, self.validation, self.agent, self.folding, settings.validation_episodes, settings.seed
            )
        share = self.validation[group.rank :: group.size]
        part = {"solved": 0, "n_targets": 0, "mean_distance": 0.0}
        if share:
            seed = (settings.seed + group.rank) % 2**32
            part = evaluate(model.policy, share, self.agent, self.folding, settings.validation_episodes, seed)
        sums = torch.tensor(
            [part["solved"], part["n_targets"], part["mean_distance"] * part["n_targets"]], dtype=torch.float64
        )
        group.all_reduce(sums, "validating")
        return {"solved": int(sums[0]), "n_targets": int(sums[1]), "mean_distance": float(sums[2] / sums[1])}

    def validate(self, model) -> dict[str, Any]:
        progress = self.progress
        started = time.perf_counter()
        self.last_validation_at = progress.elapsed
        score = self._score(model)
        row = {
            "elapsed_s": round(self.last_validation_at, 1),  # seconds of training behind this score
            "timesteps": progress.timesteps(model),
            "episodes": progress.episodes,
            **score,
            "validation_s": round(time.perf_counter() - started, 1),
        }
        progress.validations.append(row)
        if not progress.root:
            progress.pause(started)
            return row
        path = self.out / "validation.csv"
        new = not path.exists()
        with open(path, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        self.logger.on_validation(row)
        progress.pause(started)
        return row


class CheckpointCallback:
    """Every ``settings.checkpoint_every`` seconds, ``out/checkpoint.pt``: weights, optimiser state,
    configuration and progress, written atomically (rank 0 only: every rank holds the same)."""

    #: The first checkpoint comes this soon, whatever the interval: a kill in the first minutes must not
    #: lose everything.
    FIRST_CHECKPOINT_S = 30.0

    def __init__(self, progress: MetaProgress, out: Path, agent: AgentConfig):
        self.progress, self.out, self.agent = progress, out, agent
        self.next_checkpoint = progress.start + min(progress.settings.checkpoint_every, self.FIRST_CHECKPOINT_S)

    def due(self, now: float) -> bool:
        return now >= self.next_checkpoint

    def checkpoint(self, model) -> None:
        progress = self.progress
        if not progress.root:
            return
        started = time.perf_counter()
        payload = {
            "format": CHECKPOINT_FORMAT,
            "agent": self.agent.to_dict(),
            "settings": json.loads(json.dumps(asdict(progress.settings))),
            "policy": model.policy.state_dict(),
            "optimizer": model.policy.optimizer.state_dict(),
            "progress": json.loads(
                json.dumps(
                    {
                        "timesteps": progress.timesteps(model),
                        "episodes": progress.episodes,
                        "elapsed_s": progress.elapsed,
                        "validations": progress.validations,
                    }
                )
            ),
        }
        atomic_torch_save(payload, self.out / CHECKPOINT)
        self.next_checkpoint = time.perf_counter() + progress.settings.checkpoint_every
        progress.pause(started)


class MetaCallback(BaseCallback):
    """The SB3 callback of a meta-training: counts episodes and, once a step (in a group, once a rollout),
    asks its parts whether to validate, checkpoint, report or stop."""

    def __init__(
        self,
        progress: MetaProgress,
        validation: ValidationCallback,
        checkpoint: CheckpointCallback,
        logger: LoggingCallback,
    ):
        super().__init__()
        # Not self.logger: BaseCallback has one (SB3's logger).
        self.progress, self.validator, self.checkpointer, self.reporter = progress, validation, checkpoint, logger

    def _on_step(self) -> bool:
        self.progress.count_episodes(int(np.sum(self.locals["dones"])))
        if self.progress.group is not None and self.locals["n_steps"] != 0:
            return True  # ranks agree once per rollout, at its first step: a rank must not stop alone
        return self.tick(self.model)

    def tick(self, model) -> bool:
        progress = self.progress
        now = time.perf_counter()
        validate, checkpoint, stop = progress.agree(
            self.validator.due(), self.checkpointer.due(now), progress.elapsed >= progress.settings.time_budget
        )
        if validate:
            self.validator.validate(model)
        if checkpoint:
            self.checkpointer.checkpoint(model)
        self.reporter.on_step(model, now)
        if progress.group is None:  # one process stops at once; a group at rank 0's word (above)
            return progress.elapsed < progress.settings.time_budget
        return not stop
