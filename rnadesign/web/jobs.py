"""Jobs that outlive the server: a SQLite store, and the pool of worker processes that run them.

A job is a row of ``jobs`` (its checked request, status, best design so far) with one row of
``results`` per target once that target is designed. The server process only reads, queues and
supervises; each running job is one worker process (multiprocessing, spawned) that designs its targets
one by one, each within the job's time limit, and writes progress and results straight into the store.
A status change of a running job is conditional on its run token, so a worker that lives on past its
server cannot overwrite what the next server decided. At start a server marks every job still
``running`` as ``interrupted`` (the results and best design recorded so far stay); ``queued`` jobs run.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import multiprocessing
import os
import secrets
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

_log = logging.getLogger("rnadesign.web")

STATUSES = ("queued", "running", "done", "failed", "interrupted")
FINAL = frozenset({"done", "failed", "interrupted"})
DB_NAME = "jobs.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    status TEXT NOT NULL,
    spec TEXT NOT NULL,
    warnings TEXT NOT NULL DEFAULT '[]',
    started REAL,
    finished REAL,
    error TEXT,
    run TEXT,
    progress TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created);
CREATE TABLE IF NOT EXISTS results (
    job TEXT NOT NULL,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    record TEXT,
    fasta TEXT,
    csv TEXT,
    svgs TEXT,
    error TEXT,
    PRIMARY KEY (job, idx)
);
"""


def new_job_id() -> str:
    return secrets.token_hex(16)


def is_job_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


class JobStore:
    """The jobs of one ``--data`` folder (``DATA/jobs.sqlite3``); every call opens its own connection."""

    def __init__(self, data: str | Path):
        self.path = Path(data) / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _db(self):
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    # -- the server's side ---------------------------------------------------------------------
    def create(self, spec: dict[str, Any], warnings: list[str]) -> str:
        job_id = new_job_id()
        with self._db() as db:
            db.execute(
                "INSERT INTO jobs (id, created, status, spec, warnings) VALUES (?, ?, 'queued', ?, ?)",
                (job_id, time.time(), json.dumps(spec), json.dumps(warnings)),
            )
        return job_id

    def recover(self) -> list[str]:
        """Mark the jobs a previous server left running as interrupted; their ids."""
        with self._db() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM jobs WHERE status = 'running'")]
            db.execute(
                "UPDATE jobs SET status = 'interrupted', finished = ?, run = NULL, "
                "error = 'the server stopped while this job ran' WHERE status = 'running'",
                (time.time(),),
            )
        return ids

    def claim_next(self) -> tuple[str, str] | None:
        """The oldest queued job, now running under a fresh run token: (id, token), or None."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created LIMIT 1").fetchone()
            if row is None:
                return None
            token = secrets.token_hex(8)
            db.execute(
                "UPDATE jobs SET status = 'running', started = ?, run = ? WHERE id = ?", (time.time(), token, row["id"])
            )
            return row["id"], token

    def job(self, job_id: str) -> dict[str, Any] | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            results = db.execute("SELECT * FROM results WHERE job = ? ORDER BY idx", (job_id,)).fetchall()
        job = _job_dict(row)
        job["results"] = [
            {
                "index": r["idx"],
                "name": r["name"],
                "record": None if r["record"] is None else json.loads(r["record"]),
                "fasta": r["fasta"],
                "csv": r["csv"],
                "svgs": [] if r["svgs"] is None else json.loads(r["svgs"]),
                "error": r["error"],
            }
            for r in results
        ]
        return job

    def status(self, job_id: str) -> dict[str, Any] | None:
        """The job without its results (for progress)."""
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            done = db.execute("SELECT COUNT(*) FROM results WHERE job = ?", (job_id,)).fetchone()[0]
        if row is None:
            return None
        return {**_job_dict(row), "targets_done": done}

    def jobs(self, limit: int = 200) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [_job_dict(r) for r in rows]

    # -- the worker's side ---------------------------------------------------------------------
    def set_progress(self, job_id: str, token: str, progress: dict[str, Any]) -> bool:
        with self._db() as db:
            cursor = db.execute(
                "UPDATE jobs SET progress = ? WHERE id = ? AND status = 'running' AND run = ?",
                (json.dumps(progress), job_id, token),
            )
        return cursor.rowcount == 1

    def add_result(self, job_id: str, token: str, index: int, name: str, **fields: Any) -> bool:
        """One target's outcome (``record``, ``fasta``, ``csv``, ``svgs``, or ``error``), if the run still holds."""
        with self._db() as db:
            if (
                db.execute(
                    "SELECT 1 FROM jobs WHERE id = ? AND status = 'running' AND run = ?", (job_id, token)
                ).fetchone()
                is None
            ):
                return False
            db.execute(
                "INSERT OR REPLACE INTO results (job, idx, name, record, fasta, csv, svgs, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    index,
                    name,
                    fields.get("record"),
                    fields.get("fasta"),
                    fields.get("csv"),
                    None if fields.get("svgs") is None else json.dumps(fields["svgs"]),
                    fields.get("error"),
                ),
            )
        return True

    def finish(self, job_id: str, token: str, status: str, error: str | None = None) -> bool:
        """End a job that run ``token`` still holds as ``status`` (done, failed or interrupted; the server
        ends it when its worker dies or overruns); False if it had ended or passed to another run."""
        with self._db() as db:
            cursor = db.execute(
                "UPDATE jobs SET status = ?, finished = ?, error = ?, run = NULL "
                "WHERE id = ? AND status = 'running' AND run = ?",
                (status, time.time(), error, job_id, token),
            )
        return cursor.rowcount == 1


def _job_dict(row: sqlite3.Row) -> dict[str, Any]:
    spec = json.loads(row["spec"])
    return {
        "id": row["id"],
        "status": row["status"],
        "created": row["created"],
        "started": row["started"],
        "finished": row["finished"],
        "error": row["error"],
        "run": row["run"],
        "spec": spec,
        "warnings": json.loads(row["warnings"]),
        "progress": None if row["progress"] is None else json.loads(row["progress"]),
    }


def elapsed(job: dict[str, Any], now: float | None = None) -> float | None:
    if job["started"] is None:
        return None
    end = job["finished"] if job["finished"] is not None else (now or time.time())
    return max(0.0, end - job["started"])


def deadline_s(spec: dict[str, Any]) -> float:
    """The most a job's worker may run: every target's time limit, plus startup and the final checks."""
    n = len(spec["targets"])
    return n * spec["settings"]["time_limit"] * 1.1 + 5.0 * n + 30.0


# -- the worker process ---------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when the server dies, even by kill -9 (no orphaned designs)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def run_job(data: str, job_id: str, token: str, parent: int) -> None:
    """The worker process: design each target of the job, recording progress and results as it goes."""
    _die_with_parent()
    if os.getppid() != parent:  # the server died before prctl took hold
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from . import core

    store = JobStore(data)
    job = store.job(job_id)
    if job is None:
        return
    spec = job["spec"]
    settings = dict(spec["settings"])
    folding = core.folding_model(
        spec["folding"]["energy_parameters"], spec["folding"]["temperature"], spec["folding"]["dangles"]
    )
    n = len(spec["targets"])
    failures = []
    for index, target in enumerate(spec["targets"]):
        last = [0.0]

        def on_best(sequence: str, distance: int, seconds: float, index=index, target=target, last=last) -> None:
            if os.getppid() != parent:
                os._exit(1)
            now = time.monotonic()
            if now - last[0] < 0.2 and distance > 0:
                return
            last[0] = now
            store.set_progress(
                job_id,
                token,
                {
                    "target": index,
                    "targets": n,
                    "name": target["name"],
                    "best_sequence": sequence,
                    "best_distance": distance,
                    "seconds": round(seconds, 2),
                },
            )

        store.set_progress(job_id, token, {"target": index, "targets": n, "name": target["name"]})
        try:
            result = core.run_design(
                target["structure"],
                name=target["name"],
                on_best=on_best,
                folding=folding,
                constraints=core.DesignConstraints.from_dict(target["constraints"]),
                **settings,
            )
        except core.RnaDesignError as err:
            failures.append(str(err))
            store.add_result(job_id, token, index, target["name"], error=str(err))
            continue
        svgs = [svg for _, svg in core.design_svgs(result)] if result.metrics else []
        stored = store.add_result(
            job_id,
            token,
            index,
            target["name"],
            record=core.render(result, "json"),
            fasta=core.render(result, "fasta"),
            csv=core.render(result, "csv"),
            svgs=svgs,
        )
        if not stored:  # the server gave this run up (deadline, restart): stop
            return
    if failures and len(failures) == n:
        store.finish(job_id, token, "failed", failures[0] if n == 1 else f"{n} of {n} targets failed: {failures[0]}")
    else:
        store.finish(job_id, token, "done", None if not failures else f"{len(failures)} of {n} targets failed")


class WorkerPool:
    """Runs queued jobs, at most ``workers`` at once, each in a worker process with its deadline."""

    def __init__(self, store: JobStore, workers: int, *, poll_s: float = 0.2):
        self.store = store
        self.workers = max(1, workers)
        self.poll_s = poll_s
        self._context = multiprocessing.get_context("spawn")
        self._running: dict[str, tuple[Any, str, float]] = {}  # id -> (process, token, deadline)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        interrupted = self.store.recover()
        if interrupted:
            _log.warning("%d job(s) were running when the server stopped: marked interrupted", len(interrupted))
        self._thread = threading.Thread(target=self._loop, name="rnadesign-web-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Stop supervising; running jobs end as interrupted (with what they recorded so far)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for job_id, (process, token, _) in list(self._running.items()):
            process.kill()
            process.join(timeout=5)
            self.store.finish(job_id, token, "interrupted", "the server stopped while this job ran")
        self._running.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # a locked or broken store must not end supervision silently
                _log.exception("job supervision")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _tick(self) -> None:
        now = time.monotonic()
        for job_id, (process, token, deadline) in list(self._running.items()):
            if not process.is_alive():
                process.join()
                del self._running[job_id]
                self.store.finish(
                    job_id, token, "failed", f"the worker process ended unexpectedly (exit code {process.exitcode})"
                )
            elif now > deadline:
                process.kill()
                process.join(timeout=5)
                del self._running[job_id]
                self.store.finish(job_id, token, "failed", "the job ran past its deadline and was stopped")
        while len(self._running) < self.workers and not self._stop.is_set():
            claimed = self.store.claim_next()
            if claimed is None:
                break
            job_id, token = claimed
            job = self.store.status(job_id)
            process = self._context.Process(
                target=run_job,
                args=(str(self.store.path.parent), job_id, token, os.getpid()),
                name=f"rnadesign-job-{job_id[:8]}",
                daemon=True,
            )
            process.start()
            self._running[job_id] = (process, token, time.monotonic() + deadline_s(job["spec"]))

    @property
    def running(self) -> int:
        return len(self._running)
