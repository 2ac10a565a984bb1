"""The BOHB master: its settings, the run directory it owns (checked, described in ``run.json``), the search.

The run's directory holds ``configs.json`` and ``results.json`` (the live log, see
:mod:`autorl.resultlog`) and ``run.json`` (see :mod:`autorl.runfile`): the search settings and the
task, which workers may read their task from.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compat import apply
from .errors import AutoRLError
from .resultlog import CONFIGS, RESULTS, ResultLog, has_log, previous_result
from .runfile import append_run, read_run_file
from .space import MODES, search_space

if TYPE_CHECKING:
    from .worker import Task

__all__ = ["SearchSettings", "check_out", "planned_evaluations", "prepare_run", "run_master"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchSettings:
    """BOHB's budgets and schedule."""

    mode: str = "learna"
    """``learna`` or ``meta`` (see :mod:`autorl.worker`)."""
    min_budget: float = 2.0
    """Smallest budget (seconds of design per target, or of meta-training)."""
    max_budget: float = 18.0
    """Largest budget."""
    eta: float = 3.0
    """Successive halving keeps 1/eta of the configurations at each rung."""
    n_iterations: int = 2
    """Successive-halving brackets to run."""
    seed: int = 0
    """Seeds the configuration sampler (runs with several workers are not bit-reproducible)."""
    ping_interval: float = 5.0
    """Seconds between the master's checks for new and dead workers."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise AutoRLError(f"unknown search mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if not 0 < self.min_budget < self.max_budget:
            raise AutoRLError(f"need 0 < min budget < max budget, got {self.min_budget} and {self.max_budget}")
        if self.eta < 2:
            raise AutoRLError(f"eta must be at least 2, got {self.eta}")
        if self.n_iterations < 1:
            raise AutoRLError(f"n_iterations must be at least 1, got {self.n_iterations}")
        if not self.ping_interval > 0:
            raise AutoRLError("ping_interval must be positive")


def check_out(out: str | Path, resume: str | Path | None, mode: str) -> None:
    """Refuse to overwrite a run, or to warm-start from a missing run or one of another mode."""
    out = Path(out)
    if resume is None:
        if has_log(out):
            raise AutoRLError(f"{out} already holds a run: continue it with --resume {out}, or pick a new --out")
        return
    resume = Path(resume)
    if not has_log(resume):
        raise AutoRLError(f"{resume}: no results.json to resume from")
    described = read_run_file(resume)  # absent in a log hpbandster wrote itself
    previous_mode = described["mode"] if described is not None else None
    if previous_mode not in (None, mode):
        raise AutoRLError(f"{resume} holds a {previous_mode} search; it cannot warm-start a {mode} search")
    if resume.resolve() != out.resolve() and has_log(out):
        raise AutoRLError(f"{out} already holds a run; resume it with --resume {out}, or pick a new --out")


def prepare_run(
    settings: SearchSettings,
    out: str | Path,
    *,
    run_id: str,
    resume: str | Path | None = None,
    task: Task | None = None,
    extra: dict | None = None,
) -> Path:
    """Check ``out``, create it, bring a resumed log over, and add this run to ``out/run.json``.

    Separate from :func:`run_master` so that a caller can have ``run.json`` in place before any
    worker starts (workers of a local run read their task from it). ``extra`` joins the run's entry
    (PriorBand's optimizer and prior). Returns ``out``.
    """
    from rnadesign.model.folding import vienna_version

    out = Path(out)
    if task is not None and task.mode != settings.mode:
        raise AutoRLError(f"the task is a {task.mode} task but the search is a {settings.mode} search")
    description = task.describe() if task is not None else {}  # before any file is touched
    check_out(out, resume, settings.mode)
    out.mkdir(parents=True, exist_ok=True)
    if resume is not None and Path(resume).resolve() != out.resolve():
        for name in (CONFIGS, RESULTS):
            shutil.copyfile(Path(resume) / name, out / name)
    append_run(
        out,
        settings.mode,
        {
            "run_id": run_id,
            "settings": asdict(settings),
            "task": description,
            "resumed_from": str(resume) if resume is not None else None,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "vienna_version": vienna_version(),
            **(extra or {}),
        },
    )
    return out


def planned_evaluations(bohb: Any, n_iterations: int) -> int:
    """Evaluations ``bohb.run(n_iterations)`` will make: its successive-halving brackets, rung by rung.

    Asks BOHB itself (building an iteration samples nothing), so the count follows its schedule.
    A job whose worker dies still counts: it is logged as a failed evaluation.
    """
    return sum(sum(bohb.get_next_iteration(i).num_configs) for i in range(n_iterations))


def run_master(
    settings: SearchSettings,
    out: str | Path,
    *,
    run_id: str,
    nameserver: tuple[str, int],
    host: str = "127.0.0.1",
    secret: str | None = None,
    min_workers: int = 1,
    resume: str | Path | None = None,
    task: Task | None = None,
    prepared: bool = False,
) -> dict[str, Any] | None:
    """Run BOHB against the workers registered at ``nameserver``; returns the incumbent (or None).

    Every finished evaluation is appended to ``out``'s log as it comes. With ``resume``, the runs
    logged in that directory warm-start the search (and, if it is ``out``, the log goes on there).

    Args:
        task: described in ``run.json`` (unless ``prepared``).
        prepared: :func:`prepare_run` was already called for this run (with the same ``resume``).
    """
    apply(secret)
    from hpbandster.optimizers import BOHB

    out = Path(out)
    if not prepared:
        prepare_run(settings, out, run_id=run_id, resume=resume, task=task)
    previous = previous_result(out) if resume is not None else None
    log = ResultLog(out)

    import numpy as np

    np.random.seed(settings.seed)  # BOHB's model draws from numpy's global generator
    # hpbandster logs every Pyro4 step at DEBUG; errors only (failures are logged, one line each, by
    # ResultLog). Not under autorl.master, which is this module's own progress.
    hpbandster_log = logging.getLogger("autorl.hpbandster.master")
    hpbandster_log.setLevel(logging.ERROR)
    bohb = BOHB(
        configspace=search_space(settings.mode, seed=settings.seed),
        run_id=run_id,
        nameserver=nameserver[0],
        nameserver_port=nameserver[1],
        host=host,
        min_budget=settings.min_budget,
        max_budget=settings.max_budget,
        eta=settings.eta,
        ping_interval=settings.ping_interval,
        working_directory=str(out),
        result_logger=log,
        previous_result=previous,
        logger=hpbandster_log,
    )
    try:
        log.expected = planned_evaluations(bohb, settings.n_iterations)
        budgets = ", ".join(f"{b:g}" for b in bohb.budgets)
        _log.info(
            "BOHB %s search: budgets %s (%d evaluations); waiting for %d worker(s)",
            settings.mode, budgets, log.expected, min_workers,
        )  # fmt: skip
        bohb.run(n_iterations=settings.n_iterations, min_n_workers=min_workers)
    finally:
        _shutdown(bohb)
    from .report import load_run

    return load_run(out).incumbent()


def _shutdown(bohb: Any) -> None:
    """Stop the master and its workers; a worker that died meanwhile must not keep us alive."""
    try:
        bohb.shutdown(shutdown_workers=True)
    except Exception as err:  # a dead worker's proxy raises; the dispatcher must still stop
        _log.warning("shutting the workers down: %s", err)
        try:
            bohb.dispatcher.shutdown(shutdown_workers=False)
        except Exception as inner:
            _log.warning("shutting the dispatcher down: %s", inner)
        bohb.dispatcher_thread.join(timeout=30)
