"""A whole search on one machine: nameserver and master in this process, worker processes beside them.

Everything talks over loopback, under a fresh shared secret. Each worker process is started as
``autorl worker --run OUT ...`` and reads its task from ``OUT/run.json``, which is written before
any worker starts; its log goes to ``OUT/workers/worker-N.log``. A worker that dies is replaced,
and its job is recorded as failed.
"""

from __future__ import annotations

import _thread
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rnadesign.files import atomic_write_json

from .errors import AutoRLError
from .master import SearchSettings, prepare_run, run_master
from .nameserver import SECRET_ENV, start_nameserver
from .worker import Task

__all__ = ["optimize"]

_log = logging.getLogger(__name__)


class _WorkerPool:
    """``n`` local worker processes, each replaced if it dies while the search runs."""

    def __init__(self, n: int, command: list[str], env: dict[str, str], logs: Path):
        self.n, self.command, self.env, self.logs = n, command, env, logs
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
                stderr=subprocess.STDOUT,  # the worker logs to its stderr: both go to its log file
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
        # rewritten every second while the pool runs: atomically, so a reader never sees half of it
        atomic_write_json(self.logs / "pids.json", [p.pid for p in self.procs], indent=None)

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
                    _log.warning(
                        "worker %d (pid %d) exited with status %d; starting a replacement (log: %s)",
                        slot, proc.pid, code, self.logs / f"worker-{slot}.log",
                    )  # fmt: skip
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
    task: Task,
    settings: SearchSettings,
    out: str | Path,
    *,
    workers: int = 1,
    resume: str | Path | None = None,
) -> dict[str, Any] | None:
    """A whole BOHB run on this machine: nameserver, master and ``workers`` worker processes on loopback.

    Args:
        task: what each evaluation measures; it must come from :meth:`Task.load` (the workers load it
            again from its description in ``out/run.json``).
        settings: budgets and schedule.
        out: the run's directory (the live log, ``run.json``, ``workers/`` logs, meta policies).
        workers: worker processes (one core each).
        resume: a previous run's directory to warm-start from (``out`` itself to go on there).

    Raises:
        AutoRLError: ``out`` or ``resume`` do not fit (checked before any process starts), or the
            worker processes keep exiting.
        OSError: ``out`` cannot be created or written.
    """
    if workers < 1:
        raise AutoRLError(f"workers must be at least 1, got {workers}")
    run_id = f"autorl-{os.getpid()}-{secrets.token_hex(3)}"
    out = prepare_run(settings, out, run_id=run_id, resume=resume, task=task)  # before any process starts
    secret = secrets.token_hex(16)  # loopback only, but a local user's stray process must not join either
    nameserver, host, port = start_nameserver(run_id, "127.0.0.1", 0, secret)
    command = [
        sys.executable,
        "-m",
        "autorl.cli",
        "worker",
        "--run",
        str(out.resolve()),
        "--run-id",
        run_id,
        "--nameserver",
        f"{host}:{port}",
        "--host",
        "127.0.0.1",
    ]
    env = {**os.environ, SECRET_ENV: secret}
    pool = _WorkerPool(workers, command, env, out / "workers")
    try:
        pool.start()
        _log.info("started %d worker process(es); logs in %s", workers, out / "workers")
        return run_master(
            settings,
            out,
            run_id=run_id,
            nameserver=(host, port),
            host="127.0.0.1",
            secret=secret,
            min_workers=workers,
            resume=resume,
            prepared=True,
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
