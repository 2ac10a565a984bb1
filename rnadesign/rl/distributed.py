"""Data-parallel meta-training (DD-PPO style) on ``torch.distributed`` with the gloo backend (CPU).

Every rank steps its own environments on its own share of the training targets and runs SB3's
``PPO.train`` unmodified. The one change is the optimizer: SB3 builds it from
``policy_kwargs["optimizer_class"]``, and :class:`AveragingAdam` averages the gradients of all
ranks (one all-reduce of the flattened gradient) and clips the average before each Adam step. Rank
0's weights are broadcast at the start, so every rank holds the same weights and Adam state from
then on.

A rank learns of the group through the environment, as ``torchrun`` (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) or ``srun`` (``SLURM_PROCID``,
``SLURM_STEP_NUM_TASKS``, ``SLURM_STEP_NODELIST``) set it. Every collective is bounded by the
group's timeout, and a failed one (a rank died, or hung past the timeout) raises
:class:`RankLostError`, which the command line prints as one line.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import logging
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from ..errors import ConfigError, RnaDesignError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "AveragingAdam",
    "Group",
    "RankLostError",
    "World",
    "detect_world",
    "weights_digest",
]

DEFAULT_TIMEOUT_S = 180.0
_log = logging.getLogger(__name__)
_T = TypeVar("_T")


class RankLostError(RnaDesignError):
    """The training group broke: another rank died, or did not answer within the timeout."""


@dataclass(frozen=True)
class World:
    """Where this process stands in a group of training processes."""

    rank: int
    world_size: int
    local_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 29500

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise ConfigError(f"rank {self.rank} is not in a group of {self.world_size}")


def _first_host(nodelist: str) -> str:
    """The first host of a SLURM node list: ``node[03-05,9],gpu1`` -> ``node03``."""
    match = re.match(r"([^,\[]+)(?:\[([^\]]+)\])?", nodelist.strip())
    if not match:
        raise ConfigError(f"cannot read the SLURM node list {nodelist!r}; set MASTER_ADDR")
    prefix, ranges = match.groups()
    return prefix + (ranges.split(",")[0].split("-")[0] if ranges else "")


def _int_env(env: dict[str, str], name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise ConfigError(f"environment variable {name}={env[name]!r} is not an integer") from None


def detect_world(environ: dict[str, str] | None = None) -> World:
    """This process's place in the group, from the variables ``torchrun`` or ``srun`` set.

    ``torchrun``'s ``RANK``/``WORLD_SIZE`` win over SLURM's (``srun torchrun ...`` sets both). A
    process that neither started is a group of one. Under ``srun`` without ``torchrun`` the master
    is the first node of the step unless ``MASTER_ADDR`` says otherwise.
    """
    env = dict(os.environ if environ is None else environ)
    port = _int_env(env, "MASTER_PORT") if "MASTER_PORT" in env else 29500
    if "RANK" in env and "WORLD_SIZE" in env:
        return World(
            rank=_int_env(env, "RANK"),
            world_size=_int_env(env, "WORLD_SIZE"),
            local_rank=_int_env(env, "LOCAL_RANK") if "LOCAL_RANK" in env else 0,
            master_addr=env.get("MASTER_ADDR", "127.0.0.1"),
            master_port=port,
        )
    # SLURM_STEP_NUM_TASKS, not SLURM_NTASKS: a batch script itself (no srun) is a step of one task.
    if "SLURM_PROCID" in env and "SLURM_STEP_NUM_TASKS" in env:
        size = _int_env(env, "SLURM_STEP_NUM_TASKS")
        addr = env.get("MASTER_ADDR")
        if addr is None and size > 1:
            nodes = env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST")
            if not nodes:
                raise ConfigError("srun started several tasks but set no node list: set MASTER_ADDR")
            addr = _first_host(nodes)
        return World(
            rank=_int_env(env, "SLURM_PROCID"),
            world_size=size,
            local_rank=_int_env(env, "SLURM_LOCALID") if "SLURM_LOCALID" in env else 0,
            master_addr=addr or "127.0.0.1",
            master_port=port,
        )
    return World(rank=0, world_size=1)


def _reason(err: BaseException) -> str:
    """Gloo's message without its source path and advice: 'Connection closed by peer [host]:port'."""
    text = " ".join(str(err).split())
    text = re.sub(r"^\[[^\]]*\.(?:cc|cpp|h):\d+\]\s*", "", text)
    return text.split(". This is typically")[0][:200]


class Group:
    """The gloo process group of one distributed meta-training; every collective goes through it."""

    def __init__(self, world: World, timeout_s: float = DEFAULT_TIMEOUT_S):
        if not timeout_s > 0:
            raise ConfigError(f"the distributed timeout must be positive, got {timeout_s}")
        self.world, self.timeout_s = world, timeout_s
        self.rank, self.size = world.rank, world.world_size
        timeout = datetime.timedelta(seconds=timeout_s)
        # Under torchrun the agent hosts the store, and keeps it (and its port) when --max-restarts
        # starts the group again: init_method="env://" would then read the dead group's addresses and
        # fail to connect. So each attempt keeps its keys under its own prefix. Without torchrun
        # (srun, or by hand) rank 0 hosts the store.
        agent_store = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
        attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
        store = self._call(
            "joining the group",
            dist.TCPStore,
            world.master_addr,
            world.master_port,
            world.world_size,
            is_master=world.rank == 0 and not agent_store,
            timeout=timeout,
        )
        self._call(
            "joining the group",
            dist.init_process_group,
            "gloo",
            store=dist.PrefixStore(f"rnadesign/attempt-{attempt}", store),
            rank=world.rank,
            world_size=world.world_size,
            timeout=timeout,
        )

    def _call(self, what: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        try:
            return fn(*args, **kwargs)
        except RuntimeError as err:  # gloo and the store raise plain RuntimeError (or subclasses)
            raise RankLostError(
                f"rank {self.rank} of {self.size}: lost the training group while {what} (another rank "
                f"died, or did not answer within --dist-timeout {self.timeout_s:g}s): {_reason(err)}"
            ) from None

    def all_reduce(self, tensor: torch.Tensor, what: str, op=dist.ReduceOp.SUM) -> torch.Tensor:
        self._call(what, dist.all_reduce, tensor, op=op)
        return tensor

    def broadcast_tensors(self, tensors: Iterable[torch.Tensor], what: str) -> None:
        """Overwrite ``tensors`` in place with rank 0's (one flattened broadcast)."""
        tensors = list(tensors)
        flat = torch.cat([t.detach().reshape(-1) for t in tensors]) if tensors else torch.zeros(0)
        self._call(what, dist.broadcast, flat, src=0)
        offset = 0
        with torch.no_grad():
            for t in tensors:
                t.copy_(flat[offset : offset + t.numel()].view_as(t))
                offset += t.numel()

    def broadcast_object(self, value: Any, what: str) -> Any:
        """Rank 0's ``value`` on every rank (pickled: only for what rank 0 itself built or read)."""
        box = [value if self.rank == 0 else None]
        self._call(what, dist.broadcast_object_list, box, src=0)
        return box[0]

    def gather_object(self, value: Any, what: str) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        out: list[Any] = [None] * self.size
        self._call(what, dist.all_gather_object, out, value)
        return out

    def barrier(self, what: str) -> None:
        # A barrier is an all-reduce of one number: gloo's barrier() does not honour the timeout everywhere.
        self.all_reduce(torch.zeros(1), what)

    def close(self, *, together: bool = False) -> None:
        """Leave the group; with ``together`` (a run that ended well) first wait for every rank to get
        here, so no rank tears its connections down while another still uses them (a rank that exits
        early can abort in gloo's threads: "terminate called without an active exception")."""
        if not dist.is_initialized():
            return
        if together:
            with contextlib.suppress(RankLostError):
                self.barrier("leaving the group")
        dist.destroy_process_group()


class AveragingAdam(torch.optim.Adam):
    """Adam whose ``step()`` first replaces each rank's gradient by the average over all ranks, then clips it.

    Pass it as ``policy_kwargs["optimizer_class"]`` with ``optimizer_kwargs`` ``{"group": ...,
    "max_grad_norm": ..., "eps": 1e-5}`` (SB3 sets that eps only for plain Adam). Give PPO itself
    ``max_grad_norm=inf``: SB3 clips each rank's local gradient before ``step()``, and clipping before
    averaging would weight a rank by how large its gradient happened to be. Here the average is clipped,
    so every rank takes the same step a single learner would take on the union of the minibatches.
    """

    def __init__(self, params, lr: float, *, group: Group, max_grad_norm: float, **kwargs: Any):
        super().__init__(params, lr=lr, **kwargs)
        self.group, self.max_grad_norm = group, max_grad_norm

    @torch.no_grad()
    def step(self, closure=None):
        params = [p for g in self.param_groups for p in g["params"]]
        for p in params:  # every rank reduces the same tensor layout, even where a gradient is missing
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        flat = torch.cat([p.grad.reshape(-1) for p in params])
        self.group.all_reduce(flat, "averaging gradients")
        flat /= self.group.size
        offset = 0
        for p in params:
            p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
            offset += p.numel()
        if math.isfinite(self.max_grad_norm):
            torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
        return super().step(closure)


def weights_digest(state_dict: dict[str, Any]) -> str:
    """SHA-256 over a state dict's names and exact values (ranks in step hold the same digest)."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        value = torch.as_tensor(state_dict[name]).detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(str(value.dtype).encode())
        digest.update(value.numpy().tobytes())
    return digest.hexdigest()
