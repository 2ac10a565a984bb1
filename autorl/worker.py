"""What one BOHB evaluation does: a configuration, a budget, a loss.

``learna`` search: the budget is seconds of LEARNA design per validation target; ``meta`` search:
the budget is seconds of meta-training, then a fixed number of sampled episodes per validation
target. Either way the loss is the mean over validation targets of the best normalised Hamming
distance reached (0 = every target solved), and ``info`` holds plain Python values only.

The worker role lives here too: :func:`run_worker` serves evaluations to a master, and a worker
reads its :class:`Task` either from options or from the run's ``run.json`` (:func:`read_task`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import Pyro4.errors
from hpbandster.core.worker import Worker

from rnadesign.benchmark.datasets import DATASETS, load_dataset
from rnadesign.config import AgentConfig, SearchConfig
from rnadesign.errors import RnaDesignError
from rnadesign.model.folding import DEFAULT_MODEL, FoldingModel, vienna_version
from rnadesign.model.structure import Structure

from .compat import plain
from .errors import AutoRLError
from .nameserver import check_nameserver
from .runfile import RUN_FILE, newest_run, read_run_file
from .space import MODES, to_agent_config, to_search_config

__all__ = ["DesignWorker", "Task", "evaluate", "evaluate_agent", "read_task", "run_worker", "warm_up"]

_log = logging.getLogger(__name__)


def _source(name_or_path: str) -> str:
    """A dataset name as it is; a file or folder as an absolute path, so run.json holds from anywhere."""
    if name_or_path in DATASETS:  # load_dataset takes a name before a path of the same spelling
        return name_or_path
    path = Path(name_or_path)
    return str(path.resolve()) if path.exists() else name_or_path


def _field(description: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = description[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise AutoRLError(f"task description: {key} must be {what}, got {value!r}")
    return value


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
    targets_source: str | None = None
    """Where the targets were read: a dataset name or an absolute path (None: built from structures)."""
    train_source: str | None = None
    """Where the training structures were read (``meta`` only)."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise AutoRLError(f"unknown search mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if not self.targets:
            raise AutoRLError("no validation targets")
        if self.mode == "meta" and not self.train:
            raise AutoRLError("a meta search needs training structures")
        if not 0 <= self.refine_share < 1:
            raise AutoRLError(f"refine share must be in [0, 1), got {self.refine_share}")
        if self.sampling_episodes < 1 or self.env_workers < 1:
            raise AutoRLError("sampling episodes and environment workers must be at least 1")

    @classmethod
    def load(cls, mode: str, targets: str, train: str | None = None, **kwargs: Any) -> Task:
        """Read targets (and training structures) from dataset names or files.

        Raises:
            RnaDesignError: unknown dataset, unreadable file or malformed structure (the message says which).
        """
        meta = mode == "meta" and bool(train)
        validation = [t.parse(warn=False) for t in load_dataset(targets).targets]
        training = [t.parse(warn=False) for t in load_dataset(train).targets] if meta else []
        return cls(
            mode=mode,
            targets=validation,
            train=training,
            targets_source=_source(targets),
            train_source=_source(train) if meta else None,
            **kwargs,
        )

    def describe(self) -> dict[str, Any]:
        """The task as plain JSON, for ``run.json``: enough for :meth:`from_description` to load it again.

        Sources are recorded, not structures: a dataset name, or an absolute path (so the
        description holds from any working directory); the counts let a reader notice a changed file.

        Raises:
            AutoRLError: the task was built from structures in memory, not read with :meth:`load`.
        """
        if self.targets_source is None or (self.mode == "meta" and self.train_source is None):
            raise AutoRLError("a task built from structures in memory has no source to describe: use Task.load")
        return {
            "mode": self.mode,
            "targets": self.targets_source,
            "n_targets": len(self.targets),
            "train": self.train_source if self.mode == "meta" else None,
            "n_train": len(self.train),
            "seed": self.seed,
            "refine_share": self.refine_share,
            "sampling_episodes": self.sampling_episodes,
            "env_workers": self.env_workers,
        }

    @classmethod
    def from_description(cls, description: Mapping[str, Any]) -> Task:
        """The task :meth:`describe` described, loaded again from its sources.

        Raises:
            AutoRLError: a missing or mistyped field, or a source that now holds a different number of
                structures than when the run was described.
            RnaDesignError: a source that cannot be read (as :meth:`load`).
        """
        if not isinstance(description, Mapping):
            raise AutoRLError(f"a task description is a JSON object, not {type(description).__name__}")
        missing = [key for key in ("mode", "targets") if description.get(key) is None]
        if missing:
            raise AutoRLError(f"task description: no {' or '.join(missing)} (was the run started by autorl?)")
        mode = _field(description, "mode", str, "a search mode")
        targets = _field(description, "targets", str, "a dataset name or path")
        train = _field(description, "train", str, "a dataset name or path") if description.get("train") else None
        kinds = {"seed": (int, "an integer"), "refine_share": ((int, float), "a number"),
                 "sampling_episodes": (int, "an integer"), "env_workers": (int, "an integer")}  # fmt: skip
        options = {
            key: _field(description, key, kind, what)
            for key, (kind, what) in kinds.items()
            if description.get(key) is not None
        }
        task = cls.load(mode, targets, train, **options)
        for key, source, have in (("n_targets", targets, len(task.targets)), ("n_train", train, len(task.train))):
            want = description.get(key)
            if want is not None and want != have:
                raise AutoRLError(f"{source} now holds {have} structures, but the run was described with {want}")
        return task


def _evaluate_designs(task: Task, budget: float, agent: AgentConfig | None = None, **settings: Any) -> dict[str, Any]:
    """Design every target of ``task`` for ``budget`` seconds (target ``i`` with seed ``task.seed + i``)."""
    from rnadesign.design import DesignSettings, design

    distances, solved, episodes, sequences = [], 0, 0, []
    for index, target in enumerate(task.targets):
        run = DesignSettings(
            time_limit=budget, seed=task.seed + index, folding=task.folding, progress_every=float("inf"), **settings
        )
        result = design(target, run, agent, name=str(index))
        distances.append(result.distance / len(target))
        solved += result.solved
        episodes += result.episodes
        sequences.append(result.sequence)
    return {"distances": distances, "solved": solved, "episodes": episodes, "sequences": sequences}


def _evaluate_learna(agent: AgentConfig, budget: float, task: Task) -> dict[str, Any]:
    return _evaluate_designs(task, budget, agent, mode="learna", refine_share=task.refine_share)


def _evaluate_hybrid(search: SearchConfig, budget: float, task: Task) -> dict[str, Any]:
    return _evaluate_designs(task, budget, mode="hybrid", search=search)


def _evaluate_meta(agent: AgentConfig, budget: float, task: Task, directory: Path) -> dict[str, Any]:
    from rnadesign.rl.meta import POLICY, MetaTrainSettings, meta_train

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
        "policy": str(directory / POLICY),
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
    if task.mode == "hybrid":
        start = time.perf_counter()
        result = _evaluate_hybrid(to_search_config(config), budget, task)
        return _outcome(sum(result["distances"]) / len(result["distances"]), result, start, budget, task)
    return evaluate_agent(to_agent_config(config), budget, task, directory)


def evaluate_agent(
    agent: AgentConfig, budget: float, task: Task, directory: str | Path | None = None
) -> dict[str, Any]:
    """:func:`evaluate` for any agent configuration, e.g. a preset to compare a search's incumbent with."""
    start = time.perf_counter()
    if task.mode == "hybrid":
        raise AutoRLError("a hybrid search tunes the search, not an agent: use evaluate()")
    if task.mode == "learna":
        result = _evaluate_learna(agent, budget, task)
        loss = sum(result["distances"]) / len(result["distances"])
    else:
        if directory is None:
            raise ValueError("a meta evaluation needs a directory for its policy")
        result = _evaluate_meta(agent, budget, task, Path(directory))
        loss = result.pop("mean_distance")
    return _outcome(loss, result, start, budget, task)


def _outcome(loss: float, result: dict[str, Any], start: float, budget: float, task: Task) -> dict[str, Any]:
    """``{"loss", "info"}`` of one evaluation, plain Python values only."""
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
        where = f"config {tuple(config_id)} at budget {float(budget):g}"
        _log.info("evaluating %s", where)
        directory = None
        if self.task.mode == "meta":
            name = "_".join(str(int(i)) for i in config_id) + f"_b{float(budget):g}"
            directory = Path(working_directory) / "evaluations" / str(self.run_id) / name
        result = evaluate(dict(config), float(budget), self.task, directory)
        _log.info("%s: loss %.4f", where, result["loss"])
        return result


def read_task(directory: str | Path, run_id: str | None = None, wait: float = 0.0) -> Task:
    """The task of the newest run in ``directory/run.json``, loaded from its sources.

    With ``run_id``, the newest run must be that one: waits up to ``wait`` seconds for the master
    to describe it (a worker may start before its master), then fails rather than join another run.

    Raises:
        AutoRLError: no such run described there, or its task description is unusable (file named).
    """
    path = Path(directory) / RUN_FILE
    deadline = time.monotonic() + wait
    while (entry := newest_run(directory, run_id)) is None:
        if time.monotonic() >= deadline:
            data = read_run_file(directory)
            if data is None:
                raise AutoRLError(f"{path}: no such file (is DIR the master's --out? or give the task options)")
            if not data.get("runs"):
                raise AutoRLError(f"{path}: no run described yet")
            raise AutoRLError(f"{path}: its newest run is {data['runs'][-1].get('run_id')!r}, not {run_id!r}")
        time.sleep(0.5)
    try:
        return Task.from_description(entry.get("task") or {})
    except RnaDesignError as err:
        raise AutoRLError(f"{path}: {err}") from None


def run_worker(
    task: Task,
    *,
    run_id: str,
    nameserver: tuple[str, int],
    host: str = "127.0.0.1",
    secret: str | None = None,
    idle_timeout: float | None = None,
) -> None:
    """Serve evaluations to the master until it shuts the workers down (or ``idle_timeout`` passes)."""
    import torch

    torch.set_num_threads(1)  # one core per worker: several workers share a machine
    check_nameserver(nameserver[0], nameserver[1], secret)
    # hpbandster logs every Pyro4 step at DEBUG: warnings only, and not under this module's logger
    logger = logging.getLogger(f"autorl.hpbandster.worker.{os.getpid()}")
    logger.setLevel(logging.WARNING)
    worker = DesignWorker(
        task,
        run_id=run_id,
        nameserver=nameserver[0],
        nameserver_port=nameserver[1],
        host=host,
        logger=logger,
        timeout=idle_timeout,
    )
    _log.info("worker %s ready (%s, %d validation targets)", worker.worker_id, task.mode, len(task.targets))
    try:
        worker.run(background=False)
    except (Pyro4.errors.NamingError, RuntimeError) as err:  # hpbandster's own for no nameserver at the start
        if getattr(worker, "pyro_daemon", None) is None:  # before it served anything
            raise AutoRLError(f"the nameserver at {nameserver[0]}:{nameserver[1]} went away: {err}") from None
        if not isinstance(err, Pyro4.errors.NamingError):
            raise
        # hpbandster deregisters the worker after the master's shutdown; a stopped master took its
        # nameserver with it
        _log.info("the master's nameserver is gone: the run has ended or was stopped")
    if worker.busy:
        # The master stopped the run in the middle of this worker's evaluation, which goes on in one of
        # Pyro's threads: leave without the interpreter's shutdown, which would end that thread inside
        # torch (C++ std::terminate, SIGABRT).
        _log.warning("the master stopped the run during an evaluation: its result is dropped")
        logging.shutdown()
        os._exit(0)
