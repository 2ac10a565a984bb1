"""Running BOHB: the nameserver, the master and the workers, on one machine or across many.

One machine (:func:`optimize`): the nameserver and the master run in this process, on loopback,
and ``workers`` worker processes are started beside them, each logging to ``out/workers/``. A
worker that dies is replaced, and its job is recorded as failed.

Many machines: :func:`serve_nameserver`, :func:`run_master` and :func:`run_worker` find each other
through a credentials file in a shared directory (``nameserver.json``: plain JSON, never a pickle)
or through explicit host and port, and only talk to peers that hold the run's shared secret
(Pyro4 HMAC; see :mod:`autorl.compat`).

The run's directory holds ``configs.json`` and ``results.json`` (hpbandster's live-log format,
one JSON value a line, written and flushed as each evaluation finishes) and ``run.json`` (the
search settings).
"""

from __future__ import annotations

import _thread
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .compat import apply, plain
from .space import MODES, search_space
from .worker import DesignWorker, Task

__all__ = [
    "AutoRLError",
    "SearchSettings",
    "optimize",
    "read_credentials",
    "run_master",
    "run_worker",
    "serve_nameserver",
]

Progress = Callable[[str], None]

CREDENTIALS = "nameserver.json"
SECRET_ENV = "AUTORL_SECRET"
_log = logging.getLogger("autorl")


class AutoRLError(RuntimeError):
    """A run cannot start or go on (the message says why and what to do)."""


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
            raise ValueError(f"unknown search mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if not 0 < self.min_budget < self.max_budget:
            raise ValueError(f"need 0 < min budget < max budget, got {self.min_budget} and {self.max_budget}")
        if self.eta < 2:
            raise ValueError(f"eta must be at least 2, got {self.eta}")
        if self.n_iterations < 1:
            raise ValueError(f"n_iterations must be at least 1, got {self.n_iterations}")
        if not self.ping_interval > 0:
            raise ValueError("ping_interval must be positive")


def secret_from_env() -> str | None:
    """The shared secret from ``$AUTORL_SECRET`` (an environment variable keeps it out of ``ps``)."""
    return os.environ.get(SECRET_ENV) or None


def read_secret(path: str | Path) -> str:
    """A shared secret from a file (first line; the file should be readable by you only)."""
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except OSError as err:
        raise AutoRLError(f"{path}: cannot read the secret ({err.strerror})") from None
    if not secret:
        raise AutoRLError(f"{path}: the secret file is empty")
    return secret


# --- nameserver and credentials ------------------------------------------------------------


def start_nameserver(run_id: str, host: str = "127.0.0.1", port: int = 0, secret: str | None = None):
    """Start hpbandster's nameserver in a thread of this process; returns ``(nameserver, host, port)``."""
    apply(secret)
    from hpbandster.core.nameserver import NameServer

    nameserver = NameServer(run_id=run_id, host=host, port=port)
    try:
        ns_host, ns_port = nameserver.start()
    except OSError as err:
        raise AutoRLError(f"cannot start the nameserver on {host}:{port} ({err})") from None
    return nameserver, ns_host, int(ns_port)


def write_credentials(directory: str | Path, run_id: str, host: str, port: int) -> Path:
    """Write ``nameserver.json`` atomically, for workers and masters sharing ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CREDENTIALS
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"run_id": run_id, "host": host, "port": port}) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_credentials(directory: str | Path, run_id: str | None = None, wait: float = 60.0) -> tuple[str, int, str]:
    """``(host, port, run_id)`` from ``directory/nameserver.json``.

    Waits up to ``wait`` seconds for the file to appear (and, with ``run_id``, for it to be that
    run's: a file left by an earlier run is not used).
    """
    path = Path(directory) / CREDENTIALS
    deadline = time.monotonic() + wait
    while True:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if run_id is None or data.get("run_id") == run_id:
                return str(data["host"]), int(data["port"]), str(data["run_id"])
            problem = f"it belongs to run {data.get('run_id')!r}, not {run_id!r}"
        except FileNotFoundError:
            problem = "no such file (is the master running?)"
        except (OSError, json.JSONDecodeError, KeyError, ValueError) as err:
            raise AutoRLError(f"{path}: unreadable nameserver address ({err})") from None
        if time.monotonic() >= deadline:
            raise AutoRLError(f"{path}: no nameserver address after {wait:g}s: {problem}")
        time.sleep(0.5)


def check_nameserver(host: str, port: int, secret: str | None) -> None:
    """Connect to the nameserver once; a clear error if it is unreachable or refuses our secret."""
    apply(secret)
    import Pyro4
    import Pyro4.errors

    try:
        with Pyro4.locateNS(host=host, port=port) as ns:
            ns.ping()
    except Pyro4.errors.PyroError as err:
        cause = err.__cause__ or err
        if "hmac" in str(cause).lower():
            raise AutoRLError(
                f"the nameserver at {host}:{port} refused this process: wrong or missing shared secret ({cause})"
            ) from None
        raise AutoRLError(f"cannot reach the nameserver at {host}:{port} ({cause})") from None


def serve_nameserver(
    run_id: str, host: str, port: int, secret: str | None, directory: str | Path | None, progress: Progress
) -> None:
    """Run a nameserver until interrupted (Ctrl-C or SIGTERM)."""
    nameserver, ns_host, ns_port = start_nameserver(run_id, host, port, secret)
    credentials = write_credentials(directory, run_id, ns_host, ns_port) if directory is not None else None
    progress(f"nameserver for run {run_id} at {ns_host}:{ns_port}; stop with Ctrl-C")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        nameserver.shutdown()
        if credentials is not None:
            credentials.unlink(missing_ok=True)


# --- the live log --------------------------------------------------------------------------


class ResultLog:
    """hpbandster's live log (``configs.json``, ``results.json``), appended to and flushed as results come.

    Unlike hpbandster's own logger it appends to an existing log (a resumed run goes on in the same
    directory: its iteration numbers are offset past the old ones, so ids stay unique), and it
    writes plain JSON values whatever numpy types the configurations hold.
    """

    def __init__(self, directory: Path, progress: Progress | None = None):
        self.configs = directory / "configs.json"
        self.results = directory / "results.json"
        self.progress = progress
        self.offset = 1 + max((i[0] for i in logged_ids(directory)), default=-1)
        self.seen: set[tuple[int, ...]] = set()
        self.count = 0

    def _id(self, config_id) -> list[int]:
        return [int(config_id[0]) + self.offset, *(int(i) for i in config_id[1:])]

    def _append(self, path: Path, value: Any) -> None:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(plain(value)) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def new_config(self, config_id, config, config_info) -> None:
        key = tuple(self._id(config_id))
        if key not in self.seen:
            self.seen.add(key)
            self._append(self.configs, [list(key), dict(config), config_info])

    def __call__(self, job) -> None:
        self.new_config(job.id, job.kwargs["config"], {})
        budget = float(job.kwargs["budget"])
        self._append(self.results, [self._id(job.id), budget, job.timestamps, job.result, job.exception])
        self.count += 1
        if self.progress is None:
            return
        started, finished = job.timestamps.get("started"), job.timestamps.get("finished")
        took = f" in {finished - started:.1f}s" if started and finished else ""
        where = f"config {tuple(self._id(job.id))} at budget {budget:g}"
        if job.result is None:
            reason = (job.exception or "no result").strip().splitlines()[-1]
            self.progress(f"[{self.count}] {where}: failed{took} ({reason})")
        else:
            info = job.result.get("info") or {}
            solved = f", solved {info['solved']}/{info['targets']}" if "solved" in info else ""
            self.progress(f"[{self.count}] {where}: loss {job.result['loss']:.4f}{solved}{took}")


def logged_ids(directory: Path) -> list[tuple[int, ...]]:
    """Config ids already in ``directory/configs.json`` (none if there is no log)."""
    from .report import read_json_lines

    return [tuple(row[0]) for row in read_json_lines(Path(directory) / "configs.json")]


def _has_log(directory: Path) -> bool:
    return (directory / "results.json").exists() and (directory / "results.json").stat().st_size > 0


def check_out(out: Path, resume: str | Path | None, mode: str) -> None:
    """Refuse to overwrite a run, or to warm-start from a missing run or one of another mode."""
    if resume is None:
        if _has_log(out):
            raise AutoRLError(f"{out} already holds a run: continue it with --resume {out}, or pick a new --out")
        return
    resume = Path(resume)
    if not _has_log(resume):
        raise AutoRLError(f"{resume}: no results.json to resume from")
    run_json = resume / "run.json"  # absent in a log hpbandster wrote itself
    previous_mode = json.loads(run_json.read_text(encoding="utf-8"))["mode"] if run_json.exists() else None
    if previous_mode not in (None, mode):
        raise AutoRLError(f"{resume} holds a {previous_mode} search; it cannot warm-start a {mode} search")
    if resume.resolve() != out.resolve() and _has_log(out):
        raise AutoRLError(f"{out} already holds a run; resume it with --resume {out}, or pick a new --out")


# --- master --------------------------------------------------------------------------------


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
    task_description: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any] | None:
    """Run BOHB against the workers registered at ``nameserver``; returns the incumbent (or None).

    Every finished evaluation is appended to ``out``'s log as it comes. With ``resume``, the runs
    logged in that directory warm-start the search (and, if it is ``out``, the log goes on there).
    """
    apply(secret)
    from hpbandster.core.result import logged_results_to_HBS_result
    from hpbandster.optimizers import BOHB

    out = Path(out)
    check_out(out, resume, settings.mode)
    out.mkdir(parents=True, exist_ok=True)
    previous = None
    if resume is not None:
        resume = Path(resume)
        if resume.resolve() != out.resolve():
            for name in ("configs.json", "results.json"):
                shutil.copyfile(resume / name, out / name)
        previous = logged_results_to_HBS_result(str(out))
    log = ResultLog(out, progress)
    _write_run_json(out, settings, run_id, resume, task_description)

    import numpy as np

    np.random.seed(settings.seed)  # BOHB's model draws from numpy's global generator
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
        logger=_quiet_logger("autorl.master", logging.ERROR),  # failures: one line each, full text in the log
    )
    try:
        if progress is not None:
            budgets = ", ".join(f"{b:g}" for b in bohb.budgets)
            progress(f"BOHB {settings.mode} search: budgets {budgets}; waiting for {min_workers} worker(s)")
        bohb.run(n_iterations=settings.n_iterations, min_n_workers=min_workers)
    finally:
        _shutdown(bohb)
    from .report import load_run

    return load_run(out).incumbent()


def _shutdown(bohb) -> None:
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


def _write_run_json(
    out: Path, settings: SearchSettings, run_id: str, resume: Path | None, task: dict[str, Any] | None
) -> None:
    from rnadesign.folding import vienna_version

    path = out / "run.json"
    runs = json.loads(path.read_text(encoding="utf-8")).get("runs", []) if path.exists() else []
    runs.append(
        {
            "run_id": run_id,
            "settings": asdict(settings),
            "task": task or {},
            "resumed_from": str(resume) if resume is not None else None,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "vienna_version": vienna_version(),
        }
    )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"mode": settings.mode, "runs": runs}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _quiet_logger(name: str, level: int = logging.WARNING) -> logging.Logger:
    """hpbandster logs every Pyro4 step at DEBUG by default; keep its warnings only."""
    logger = logging.getLogger(name)
    logger.setLevel(level)
    return logger


# --- worker --------------------------------------------------------------------------------


def run_worker(
    task: Task,
    *,
    run_id: str,
    nameserver: tuple[str, int],
    host: str = "127.0.0.1",
    secret: str | None = None,
    idle_timeout: float | None = None,
    progress: Progress | None = None,
) -> None:
    """Serve evaluations to the master until it shuts the workers down (or ``idle_timeout`` passes)."""
    import torch

    torch.set_num_threads(1)  # one core per worker: several workers share a machine
    check_nameserver(nameserver[0], nameserver[1], secret)
    logger = _quiet_logger(f"autorl.worker.{os.getpid()}")
    worker = _ReportingWorker(
        task,
        progress,
        run_id=run_id,
        nameserver=nameserver[0],
        nameserver_port=nameserver[1],
        host=host,
        logger=logger,
        timeout=idle_timeout,
    )
    if progress is not None:
        progress(f"worker {worker.worker_id} ready ({task.mode}, {len(task.targets)} validation targets)")
    worker.run(background=False)


class _ReportingWorker(DesignWorker):
    def __init__(self, task: Task, progress: Progress | None, **kwargs: Any):
        super().__init__(task, **kwargs)
        self.progress = progress

    def compute(self, config_id, config, budget, working_directory, **kwargs):
        if self.progress is not None:
            self.progress(f"evaluating config {tuple(config_id)} at budget {float(budget):g}")
        result = super().compute(config_id, config, budget, working_directory, **kwargs)
        if self.progress is not None:
            self.progress(f"config {tuple(config_id)} at budget {float(budget):g}: loss {result['loss']:.4f}")
        return result


# --- one machine ---------------------------------------------------------------------------


class _WorkerPool:
    """``n`` local worker processes, each replaced if it dies while the search runs."""

    def __init__(self, n: int, command: list[str], env: dict[str, str], logs: Path, progress: Progress | None):
        self.n, self.command, self.env, self.logs, self.progress = n, command, env, logs, progress
        self.max_replacements = 2 * n
        self.replacements = 0
        self.failed = False
        self.procs: list[subprocess.Popen] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._watch, name="autorl worker pool", daemon=True)

    def _spawn(self, slot: int) -> subprocess.Popen:
        log = open(self.logs / f"worker-{slot}.log", "a", encoding="utf-8")  # noqa: SIM115 (the child owns it)
        try:
            return subprocess.Popen(
                [*self.command, "--worker-id", str(slot)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # Ctrl-C reaches the master; the master stops the workers
            )
        finally:
            log.close()

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with self.lock:
            self.procs = [self._spawn(i) for i in range(self.n)]
        self._write_pids()
        self.thread.start()

    def _write_pids(self) -> None:
        (self.logs / "pids.json").write_text(json.dumps([p.pid for p in self.procs]) + "\n", encoding="utf-8")

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            with self.lock:
                for slot, proc in enumerate(self.procs):
                    code = proc.poll()
                    if code is None or self.stopping.is_set():
                        continue
                    if self.replacements >= self.max_replacements:
                        if not self.failed:
                            self.failed = True
                            _thread.interrupt_main()  # the master would wait for workers forever
                        continue
                    self.replacements += 1
                    if self.progress is not None:
                        self.progress(
                            f"worker {slot} (pid {proc.pid}) exited with status {code}; starting a replacement "
                            f"(log: {self.logs / f'worker-{slot}.log'})"
                        )
                    self.procs[slot] = self._spawn(slot)
                self._write_pids()

    def stop(self, grace: float = 5.0) -> None:
        """Wait ``grace`` seconds for the workers to exit (the master shuts them down), then terminate them."""
        self.stopping.set()
        with self.lock:
            procs = list(self.procs)
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def optimize(
    task_args: list[str],
    settings: SearchSettings,
    out: str | Path,
    *,
    workers: int = 1,
    resume: str | Path | None = None,
    task_description: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any] | None:
    """A whole BOHB run on this machine: nameserver, master and ``workers`` worker processes on loopback.

    Args:
        task_args: ``autorl worker`` arguments that define the task (mode, targets, ...); each worker
            process is started with them.
        settings: budgets and schedule.
        out: the run's directory (the live log, ``run.json``, ``workers/`` logs, meta policies).
        workers: worker processes (one core each).
        resume: a previous run's directory to warm-start from (``out`` itself to go on there).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    out = Path(out)
    check_out(out, resume, settings.mode)  # before any process starts
    secret = secrets.token_hex(16)  # loopback only, but a local user's stray process must not join either
    run_id = f"autorl-{os.getpid()}-{secrets.token_hex(3)}"
    nameserver, host, port = start_nameserver(run_id, "127.0.0.1", 0, secret)
    command = [
        sys.executable,
        "-m",
        "autorl.cli",
        "worker",
        *task_args,
        "--run-id",
        run_id,
        "--nameserver",
        f"{host}:{port}",
        "--host",
        "127.0.0.1",
    ]
    env = {**os.environ, SECRET_ENV: secret}
    pool = _WorkerPool(workers, command, env, out / "workers", progress)
    try:
        out.mkdir(parents=True, exist_ok=True)
        pool.start()
        if progress is not None:
            progress(f"started {workers} worker process(es); logs in {out / 'workers'}")
        return run_master(
            settings,
            out,
            run_id=run_id,
            nameserver=(host, port),
            host="127.0.0.1",
            secret=secret,
            min_workers=workers,
            resume=resume,
            task_description=task_description,
            progress=progress,
        )
    except KeyboardInterrupt:
        if pool.failed:
            raise AutoRLError(
                f"worker processes keep exiting ({pool.replacements} replaced); see {out / 'workers'}"
            ) from None
        raise
    finally:
        pool.stop()
        nameserver.shutdown()
