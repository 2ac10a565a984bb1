"""Meta-training: PPO across many target structures, checkpointed, validated, resumable.

``out/checkpoint.pt`` (policy, optimiser, configuration, progress; written atomically) lets a
killed run go on with ``resume=True``; ``out/validation.csv`` and TensorBoard event files log
the periodic validation; ``out/policy.safetensors`` is the final policy file (see ``policy_file.py``).

Given a :class:`~rnadesign.rl.distributed.World` of several ranks, training is data-parallel (DD-PPO
style, see ``distributed.py``): each rank steps its own environments on its own share of the
training targets, gradients are averaged before every optimizer step, and the ranks agree once per
rollout, on rank 0's clock, whether to validate (each rank a share of the validation targets),
checkpoint or stop. Rank 0 alone writes files and logs progress.
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

from ..config import AgentConfig
from ..errors import ConfigError, RnaDesignError
from ..model.folding import DEFAULT_MODEL, FoldingModel, vienna_version
from ..model.structure import Structure
from .agent import make_ppo, sample_episodes, seed_everything
from .distributed import DEFAULT_TIMEOUT_S, Group, RankLostError, World, weights_digest
from .env import RnaDesignEnv
from .policy_file import PolicyFileError, atomic_torch_save, read_weights_only, save_policy

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


class _MetaCallback(BaseCallback):
    def __init__(self, run: _MetaRun):
        super().__init__()
        self.run = run

    def _on_step(self) -> bool:
        self.run.count_episodes(int(np.sum(self.locals["dones"])))
        if self.run.group is not None and self.locals["n_steps"] != 0:
            return True  # ranks agree once per rollout, at its first step: a rank must not stop alone
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
        group: Group | None = None,
    ):
        self.out, self.agent, self.settings = out, agent, settings
        self.validation, self.folding = validation, folding
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

    def tick(self, model) -> bool:
        now = time.perf_counter()
        validate, checkpoint, stop = self.agree(
            self.elapsed - self.last_validation_at >= self.settings.validate_every,
            now >= self.next_checkpoint,
            self.elapsed >= self.settings.time_budget,
        )
        if validate:
            self.validate(model)
        if checkpoint:
            self.checkpoint(model)
        if now >= self.next_report and self.root:
            self.next_report = now + self.settings.report_every
            budget = self.settings.time_budget
            rate = (self.episodes - self.episodes_at_start) / max(now - self.start - self.paused, 1e-9)
            last = self.validations[-1] if self.validations else None
            score = f"validation solved {last['solved']}/{last['n_targets']}" if last else "no validation yet"
            _log.info(
                "%7.0fs  steps %d  episodes %d (%.1f/s)  %s  time left %.0fs",
                self.elapsed,
                self.timesteps(model),
                self.episodes,
                rate,
                score,
                max(budget - self.elapsed, 0),
                extra={"progress": ("meta-train", round(min(self.elapsed, budget)), round(budget))},
            )
        if self.group is None:  # one process stops at once; a group at rank 0's word (above)
            return self.elapsed < self.settings.time_budget
        return not stop

    def _score(self, model) -> dict[str, Any]:
        """The validation score; in a group each rank samples its share of the targets and the counts are summed."""
        if self.group is None:
            return evaluate(
                model.policy,
                self.validation,
                self.agent,
                self.folding,
                self.settings.validation_episodes,
                self.settings.seed,
            )
        share = self.validation[self.group.rank :: self.group.size]
        part = {"solved": 0, "n_targets": 0, "mean_distance": 0.0}
        if share:
            seed = (self.settings.seed + self.group.rank) % 2**32
            part = evaluate(model.policy, share, self.agent, self.folding, self.settings.validation_episodes, seed)
        sums = torch.tensor(
            [part["solved"], part["n_targets"], part["mean_distance"] * part["n_targets"]], dtype=torch.float64
        )
        self.group.all_reduce(sums, "validating")
        return {"solved": int(sums[0]), "n_targets": int(sums[1]), "mean_distance": float(sums[2] / sums[1])}

    def validate(self, model) -> dict[str, Any]:
        started = time.perf_counter()
        self.last_validation_at = self.elapsed
        score = self._score(model)
        row = {
            "elapsed_s": round(self.last_validation_at, 1),  # seconds of training behind this score
            "timesteps": self.timesteps(model),
            "episodes": self.episodes,
            **score,
            "validation_s": round(time.perf_counter() - started, 1),
        }
        self.validations.append(row)
        if not self.root:
            self._pause(started)
            return row
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
        """Write ``checkpoint.pt`` (rank 0 only: every rank holds the same weights and optimiser state)."""
        if not self.root:
            return
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
                        "timesteps": self.timesteps(model),
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


def check_distributable(model) -> None:
    """Refuse PPO settings that break data-parallel training.

    SB3's ``target_kl`` ends an update's epochs early on the rank whose KL crossed the limit: that
    rank would leave the gradient all-reduce while the others wait in it. ``PPOConfig`` sets no
    ``target_kl``; this keeps one from ever reaching a group.
    """
    if getattr(model, "target_kl", None) is not None:
        raise ConfigError(
            f"target_kl={model.target_kl} cannot be used in distributed training: one rank would stop its "
            "epochs early and leave the others waiting in the gradient average"
        )


def meta_train(
    train: list[Structure],
    validation: list[Structure],
    agent: AgentConfig,
    out: str | Path,
    settings: MetaTrainSettings,
    *,
    resume: bool | str = False,
    folding: FoldingModel = DEFAULT_MODEL,
    train_name: str = "train",
    world: World | None = None,
) -> dict[str, Any]:
    """Meta-train a policy across ``train``; returns the final policy file's model card.

    With ``resume``, the configuration, weights, optimiser state and progress come from
    ``out/checkpoint.pt`` and training goes on until the total budget is spent; ``resume="auto"``
    starts afresh where there is no checkpoint yet (a group restarted by ``torchrun --max-restarts``
    or a requeued SLURM job runs one command line, whether or not a checkpoint exists).

    ``world`` (default: a single process) places this process in a group of ranks that train one
    policy together (see the module docstring); every rank calls this function with the same
    arguments, and rank 0 writes the files.

    Raises:
        RankLostError: another rank died or stopped answering for ``settings.dist_timeout`` seconds.
    """
    if resume not in (False, True, "auto"):
        raise ConfigError(f"resume must be True, False or 'auto', not {resume!r}")
    world = world or World(rank=0, world_size=1)
    if world.world_size > 1 and len(train) < world.world_size:
        raise ConfigError(f"{len(train)} training structures cannot be shared among {world.world_size} ranks")
    group = Group(world, settings.dist_timeout) if world.world_size > 1 else None
    ended_well = False
    try:
        card = _meta_train(train, validation, agent, Path(out), settings, resume, folding, train_name, group)
        ended_well = True
        return card
    finally:
        if group is not None:
            group.close(together=ended_well)


def _read_checkpoint(out: Path, resume: bool | str, group: Group | None) -> dict[str, Any] | None:
    """Rank 0 reads the checkpoint (if asked to) and shares it, or its error, with every rank."""
    checkpoint, failure = None, None
    if resume and (group is None or group.rank == 0):
        try:
            if resume == "auto" and not (out / CHECKPOINT).is_file():
                _log.info("no checkpoint in %s yet: starting afresh", out)
            else:
                checkpoint = load_checkpoint(out)
        except RnaDesignError as err:
            failure = err
    if group is not None:
        checkpoint, failure = group.broadcast_object((checkpoint, failure), "sharing the checkpoint")
    if failure is not None:
        raise failure
    return checkpoint


def _meta_train(
    train: list[Structure],
    validation: list[Structure],
    agent: AgentConfig,
    out: Path,
    settings: MetaTrainSettings,
    resume: bool | str,
    folding: FoldingModel,
    train_name: str,
    group: Group | None,
) -> dict[str, Any]:
    rank, size = (0, 1) if group is None else (group.rank, group.size)
    root = rank == 0
    if root:
        out.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {}
    checkpoint = _read_checkpoint(out, resume, group)
    if checkpoint is not None:
        agent = AgentConfig.from_dict(checkpoint["agent"], name=checkpoint["agent"].get("name", "checkpoint"))
        state = checkpoint["progress"]
        if root:
            _log.info(
                "resuming from %s: %.0fs trained, %d steps", out / CHECKPOINT, state["elapsed_s"], state["timesteps"]
            )
    rank_seed = (settings.seed + rank) % 2**32  # the ranks draw different episodes
    seed_everything(rank_seed)
    share = train[rank::size]  # each rank its own targets; the rollout size follows all of them (make_ppo)
    make_env = functools.partial(RnaDesignEnv, share, agent.env, folding)
    if settings.workers > 1:
        vec_env = SubprocVecEnv([make_env] * settings.workers, start_method="forkserver")
    else:
        vec_env = DummyVecEnv([make_env])
    # A resumed run draws new episodes: reseed the envs with the progress so far.
    seed = (rank_seed + int(state.get("timesteps", 0))) % 2**32
    model = make_ppo(train, agent, folding, seed, vec_env=vec_env, group=group)
    if checkpoint is not None:
        model.policy.load_state_dict(checkpoint["policy"])
        model.policy.optimizer.load_state_dict(checkpoint["optimizer"])
        model.num_timesteps = int(state["timesteps"])
    if group is not None:
        check_distributable(model)
        # A fresh start has one initialisation per seed: everyone takes rank 0's.
        group.broadcast_tensors([*model.policy.parameters(), *model.policy.buffers()], "sharing rank 0's weights")
    run = _MetaRun(out, agent, settings, validation, folding, state, group)
    if root:
        _log.info(
            "meta-training on %d structures with %d rank(s) x %d environment worker(s): %.0fs of %.0fs trained so far",
            len(train),
            size,
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
                if root:
                    _log.warning("interrupted: checkpoint written to %s; continue with --resume", out / CHECKPOINT)
                raise KeyboardInterrupt from None
            except RankLostError:  # rank 0 keeps what it has: a restarted group goes on from here
                run.checkpoint(model)
                if root:
                    _log.warning("checkpoint written to %s; restart the group with --resume", out / CHECKPOINT)
                raise
        trained_s = run.elapsed  # before the final validation, which is not training
        budget = round(settings.time_budget)
        if root:
            _log.info(
                "trained %.0fs, %d steps; final validation",
                trained_s,
                run.timesteps(model),
                extra={"progress": ("meta-train", budget, budget)},
            )
        if checkpoint is None and model._n_updates == 0 and root:
            n_steps, _ = agent.ppo.rollout_sizes(float(np.mean([t.n_decisions for t in train])), vec_env.num_envs)
            _log.warning(
                "the %gs budget ended before the first PPO update (it comes after %d environment steps): "
                "the policy is untrained; give a larger --time-budget",
                settings.time_budget,
                n_steps * vec_env.num_envs * size,
            )
        run.agree()  # count the last rollout's episodes
        final = run.validate(model)
        run.checkpoint(model)
        digests = None
        if group is not None:  # the same updates on the same weights: anything else is a bug, not bad luck
            digests = group.gather_object(weights_digest(model.policy.state_dict()), "comparing weights")
            if len(set(digests)) != 1:
                raise RuntimeError(f"the ranks' weights diverged: {digests}")
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
        "timesteps": run.timesteps(model),
        "episodes": run.episodes,
        "seed": settings.seed,
        "vienna_version": vienna_version(),
        "torch_version": str(torch.__version__),
        "validation": final,
        "folding": folding.to_dict(),
    }
    if group is not None:
        card["distributed"] = {
            "ranks": size,
            "workers_per_rank": settings.workers,
            "rank_seconds": round(trained_s * size, 1),  # this run's compute: training seconds x ranks
            "updates": int(model._n_updates // model.n_epochs),  # PPO updates of this run (SB3 counts epochs)
            "weights_sha256": digests,
        }
    if root:
        save_policy(out / POLICY, agent, model.policy.state_dict(), card)
    return card
