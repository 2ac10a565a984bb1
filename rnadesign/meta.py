"""Meta-training: PPO across many target structures, checkpointed, validated, resumable.

``out/checkpoint.pt`` (policy, optimiser, configuration, progress; written atomically) lets a
killed run go on with ``resume=True``; ``out/validation.csv`` and TensorBoard event files log
the periodic validation; ``out/policy.safetensors`` is the final policy file (see ``policy_file.py``).
"""

from __future__ import annotations

import contextlib
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
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from .agent import make_ppo, sample_episodes, seed_everything
from .config import AgentConfig
from .env import RnaDesignEnv
from .errors import ConfigError
from .folding import DEFAULT_MODEL, FoldingModel, vienna_version
from .policy_file import PolicyFileError, atomic_torch_save, read_weights_only, save_policy
from .structure import Structure

__all__ = ["MetaTrainSettings", "evaluate", "meta_train"]

CHECKPOINT = "checkpoint.pt"
POLICY = "policy.safetensors"
CHECKPOINT_FORMAT = "rnadesign-checkpoint-1"
_log = logging.getLogger(__name__)


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

    def __post_init__(self) -> None:
        if not self.time_budget > 0:
            raise ConfigError(f"time budget must be positive, got {self.time_budget}")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be in [0, 2**32), got {self.seed}")
        if self.validation_episodes < 1:
            raise ConfigError("validation_episodes must be at least 1")


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


class _MetaCallback(BaseCallback):
    def __init__(self, run: _MetaRun):
        super().__init__()
        self.run = run

    def _on_step(self) -> bool:
        self.run.episodes += int(np.sum(self.locals["dones"]))
        return self.run.tick(self.model)


class _MetaRun:
    """The clock and bookkeeping of one meta-training: training time excludes validation and checkpoints."""

    #: The first checkpoint and progress line come this soon, whatever the intervals: a kill in the
    #: first minutes must not lose everything, and a user must see that training started.
    FIRST_CHECKPOINT_S = 30.0
    FIRST_REPORT_S = 5.0

    def __init__(
        self,
        out: Path,
        agent: AgentConfig,
        settings: MetaTrainSettings,
        validation: list[Structure],
        folding: FoldingModel,
        state: dict[str, Any],
    ):
        self.out, self.agent, self.settings = out, agent, settings
        self.validation, self.folding = validation, folding
        self.episodes = int(state.get("episodes", 0))
        self.elapsed_before = float(state.get("elapsed_s", 0.0))
        self.validations = list(state.get("validations", []))
        self.start = time.perf_counter()
        self.paused = 0.0
        """Seconds spent validating and checkpointing since ``start`` (not training)."""
        self.next_checkpoint = self.start + min(settings.checkpoint_every, self.FIRST_CHECKPOINT_S)
        self.next_report = self.start + min(settings.report_every, self.FIRST_REPORT_S)
        self.last_validation_at = self.elapsed  # training seconds at the last validation (or the start)
        self.episodes_at_start = self.episodes

    @property
    def elapsed(self) -> float:
        """Seconds of training, over this and earlier (resumed) runs."""
        return self.elapsed_before + time.perf_counter() - self.start - self.paused

    def _pause(self, started: float) -> None:
        self.paused += time.perf_counter() - started

    def tick(self, model) -> bool:
        now = time.perf_counter()
        if self.elapsed - self.last_validation_at >= self.settings.validate_every:
            self.validate(model)
        if now >= self.next_checkpoint:
            self.checkpoint(model)
        if now >= self.next_report:
            self.next_report = now + self.settings.report_every
            budget = self.settings.time_budget
            rate = (self.episodes - self.episodes_at_start) / max(now - self.start - self.paused, 1e-9)
            last = self.validations[-1] if self.validations else None
            score = f"validation solved {last['solved']}/{last['n_targets']}" if last else "no validation yet"
            _log.info(
                "%7.0fs  steps %d  episodes %d (%.1f/s)  %s  time left %.0fs",
                self.elapsed,
                model.num_timesteps,
                self.episodes,
                rate,
                score,
                max(budget - self.elapsed, 0),
                extra={"progress": ("meta-train", round(min(self.elapsed, budget)), round(budget))},
            )
        return self.elapsed < self.settings.time_budget

    def validate(self, model) -> dict[str, Any]:
        started = time.perf_counter()
        self.last_validation_at = self.elapsed
        score = evaluate(
            model.policy,
            self.validation,
            self.agent,
            self.folding,
            self.settings.validation_episodes,
            self.settings.seed,
        )
        row = {
            "elapsed_s": round(self.last_validation_at, 1),  # seconds of training behind this score
            "timesteps": int(model.num_timesteps),
            "episodes": self.episodes,
            **score,
            "validation_s": round(time.perf_counter() - started, 1),
        }
        self.validations.append(row)
        path = self.out / "validation.csv"
        new = not path.exists()
        with open(path, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        self._tensorboard(row)
        _log.info(
            "validation at %.0fs: solved %d/%d, mean distance %.4f (%.0fs)",
            row["elapsed_s"],
            row["solved"],
            row["n_targets"],
            row["mean_distance"],
            row["validation_s"],
        )
        self._pause(started)
        return row

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

    def checkpoint(self, model) -> None:
        started = time.perf_counter()
        payload = {
            "format": CHECKPOINT_FORMAT,
            "agent": self.agent.to_dict(),
            "settings": json.loads(json.dumps(asdict(self.settings))),
            "policy": model.policy.state_dict(),
            "optimizer": model.policy.optimizer.state_dict(),
            "progress": json.loads(
                json.dumps(
                    {
                        "timesteps": int(model.num_timesteps),
                        "episodes": self.episodes,
                        "elapsed_s": self.elapsed,
                        "validations": self.validations,
                    }
                )
            ),
        }
        atomic_torch_save(payload, self.out / CHECKPOINT)
        self.next_checkpoint = time.perf_counter() + self.settings.checkpoint_every
        self._pause(started)


def load_checkpoint(out: Path) -> dict[str, Any]:
    path = out / CHECKPOINT
    if not path.is_file():
        raise PolicyFileError(f"{path}: no checkpoint to resume from")
    return read_weights_only(path, CHECKPOINT_FORMAT, "checkpoint")


def meta_train(
    train: list[Structure],
    validation: list[Structure],
    agent: AgentConfig,
    out: str | Path,
    settings: MetaTrainSettings,
    *,
    resume: bool = False,
    folding: FoldingModel = DEFAULT_MODEL,
    train_name: str = "train",
) -> dict[str, Any]:
    """Meta-train a policy across ``train``; returns the final policy file's model card.

    With ``resume``, the configuration, weights, optimiser state and progress come from
    ``out/checkpoint.pt`` and training goes on until the total budget is spent.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {}
    checkpoint = None
    if resume:
        checkpoint = load_checkpoint(out)
        agent = AgentConfig.from_dict(checkpoint["agent"], name=checkpoint["agent"].get("name", "checkpoint"))
        state = checkpoint["progress"]
        _log.info("resuming from %s: %.0fs trained, %d steps", out / CHECKPOINT, state["elapsed_s"], state["timesteps"])
    seed_everything(settings.seed)
    make_env = functools.partial(RnaDesignEnv, train, agent.env, folding)
    if settings.workers > 1:
        vec_env = SubprocVecEnv([make_env] * settings.workers, start_method="forkserver")
    else:
        vec_env = DummyVecEnv([make_env])
    # A resumed run draws new episodes: reseed the envs with the progress so far.
    model = make_ppo(train, agent, folding, (settings.seed + int(state.get("timesteps", 0))) % 2**32, vec_env=vec_env)
    if checkpoint is not None:
        model.policy.load_state_dict(checkpoint["policy"])
        model.policy.optimizer.load_state_dict(checkpoint["optimizer"])
        model.num_timesteps = int(state["timesteps"])
    run = _MetaRun(out, agent, settings, validation, folding, state)
    _log.info(
        "meta-training on %d structures with %d environment worker(s): %.0fs of %.0fs trained so far",
        len(train),
        settings.workers,
        run.elapsed,
        settings.time_budget,
    )
    try:
        if run.elapsed < settings.time_budget:
            try:
                model.learn(total_timesteps=10**12, callback=_MetaCallback(run), reset_num_timesteps=checkpoint is None)
            except (KeyboardInterrupt, EOFError, BrokenPipeError):  # Ctrl-C or SIGTERM (env workers die with it)
                run.checkpoint(model)
                _log.warning("interrupted: checkpoint written to %s; continue with --resume", out / CHECKPOINT)
                raise KeyboardInterrupt from None
        trained_s = run.elapsed  # before the final validation, which is not training
        budget = round(settings.time_budget)
        _log.info(
            "trained %.0fs, %d steps; final validation",
            trained_s,
            model.num_timesteps,
            extra={"progress": ("meta-train", budget, budget)},
        )
        if checkpoint is None and model._n_updates == 0:
            n_steps, _ = agent.ppo.rollout_sizes(float(np.mean([t.n_decisions for t in train])), vec_env.num_envs)
            _log.warning(
                "the %gs budget ended before the first PPO update (it comes after %d environment steps): "
                "the policy is untrained; give a larger --time-budget",
                settings.time_budget,
                n_steps * vec_env.num_envs,
            )
        final = run.validate(model)
        run.checkpoint(model)
    finally:
        with contextlib.suppress(EOFError, ConnectionError):  # env workers already gone (Ctrl-C reached them too)
            vec_env.close()
    card = {
        "training_data": train_name,
        "training_targets": len(train),
        "validation_targets": len(validation),
        "time_budget_s": settings.time_budget,
        "trained_s": round(trained_s, 1),
        "workers": settings.workers,
        "timesteps": int(model.num_timesteps),
        "episodes": run.episodes,
        "seed": settings.seed,
        "vienna_version": vienna_version(),
        "torch_version": str(torch.__version__),
        "validation": final,
        "folding": folding.to_dict(),
    }
    save_policy(out / POLICY, agent, model.policy.state_dict(), card)
    return card
