"""Meta-training: PPO across many target structures, checkpointed, validated, resumable.
The callbacks that checkpoint, validate and log are in :mod:`~rnadesign.rl.callbacks`.

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
import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from ..config import AgentConfig
from ..errors import ConfigError, RnaDesignError
from ..model.folding import DEFAULT_MODEL, FoldingModel, vienna_version
from ..model.structure import Structure
from .agent import make_ppo, seed_everything
from .callbacks import (
    CHECKPOINT,
    CHECKPOINT_FORMAT,
    CheckpointCallback,
    LoggingCallback,
    MetaCallback,
    MetaProgress,
    MetaTrainSettings,
    ValidationCallback,
    evaluate,
)
from .distributed import Group, RankLostError, World, weights_digest
from .env import RnaDesignEnv
from .policy_file import PolicyFileError, read_weights_only, save_policy

__all__ = ["MetaTrainSettings", "evaluate", "meta_train"]

POLICY = "policy.safetensors"
_log = logging.getLogger(__name__)


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
    run = MetaProgress(settings, state, group)
    logger = LoggingCallback(run, out)
    validator = ValidationCallback(run, out, agent, validation, folding, logger)
    checkpointer = CheckpointCallback(run, out, agent)
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
                model.learn(
                    total_timesteps=10**12,
                    callback=MetaCallback(run, validator, checkpointer, logger),
                    reset_num_timesteps=checkpoint is None,
                )
            except (KeyboardInterrupt, EOFError, BrokenPipeError):  # Ctrl-C or SIGTERM (env workers die with it)
                checkpointer.checkpoint(model)
                if root:
                    _log.warning("interrupted: checkpoint written to %s; continue with --resume", out / CHECKPOINT)
                raise KeyboardInterrupt from None
            except RankLostError:  # rank 0 keeps what it has: a restarted group goes on from here
                checkpointer.checkpoint(model)
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
        final = validator.validate(model)
        checkpointer.checkpoint(model)
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
