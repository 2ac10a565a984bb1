"""Run a method on a dataset: one process per (target, run) attempt, results saved as they finish.

``DIR/results.jsonl`` gets one line per finished attempt, appended and flushed at once, so an
interruption loses only the attempts in flight; running the same command again skips the
attempts already recorded. Every solved design is folded again here before it is recorded.

A shard (``BenchmarkSpec.shard`` = (K, N), ``--shard K/N``) runs every N-th attempt from the K-th
into its own file, ``DIR/results-shard-K-of-N.jsonl``: N array tasks of a cluster run one benchmark,
and ``rnadesign benchmark summary`` merges them (``summary.merge_shards``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from ..errors import ConfigError, RnaDesignError
from ..files import CorruptFileError, append_json_line, atomic_write_json
from ..model.constraints import BoundConstraints, DesignConstraints
from ..model.folding import vienna_version
from ..model.metrics import check_design
from ..model.structure import InvalidStructureError, parse_structure
from .datasets import Dataset
from .records import results_lock
from .spec import BenchmarkSpec, read_results, results_name, series_id, shard_attempts, shard_label

__all__ = ["check_only", "run_benchmark"]

_log = logging.getLogger(__name__)
GRACE_S = 5.0  # a process may overrun the limit by this much before it is killed


def _attempt_seed(base: int, index: int, run: int) -> int:
    """The seed of one attempt (below 2**31, the range every seeded generator takes)."""
    return (base * 1_000_003 + run * 10_007 + index) % 2**31


class _Runner:
    def __init__(self, dataset: Dataset, spec: BenchmarkSpec, series: str, out: Path, total: int):
        self.dataset, self.spec, self.series, self.out, self.total = dataset, spec, series, out, total
        self.lock = threading.Lock()
        self.live: set[subprocess.Popen] = set()
        self.stopping = threading.Event()
        self.finished = 0
        self.solved = 0

    def _spec_for(self, target: str, seed: int, constraints: DesignConstraints | None) -> dict[str, Any]:
        return {
            "target": target,
            "method": self.spec.method,
            "time_limit": self.spec.time_limit,
            "seed": seed,
            "config": self.spec.config,
            "folding": self.spec.folding.to_dict(),
            "stall_restart": self.spec.stall_restart,
            "restart_timeout": self.spec.restart_timeout,
            "policy": self.spec.policy,
            "search": dataclasses.asdict(self.spec.search),
            "constraints": None if constraints is None else constraints.to_dict(),
            "launch": time.time(),
        }

    def run_one(
        self, index: int, target_id: str, target: str, run: int, target_constraint: str | None = None
    ) -> dict[str, Any] | None:
        seed = _attempt_seed(self.spec.seed, index, run)
        record: dict[str, Any] = {
            "dataset": self.dataset.name,
            "target_id": target_id,
            "target": target,
            "run": run,
            "method": self.spec.method,
            "seed": seed,
            "time_limit": self.spec.time_limit,
            "series": self.series,
            "target_constraint": target_constraint,
            "constraints": None,
            "folding": self.spec.folding.to_dict(),  # also in series.json; here so a record alone names its model
        }
        try:
            structure = parse_structure(target, warn=False)
        except InvalidStructureError as err:
            return {**record, **self._unsolved(target, None, 0.0, f"invalid target: {err}")}
        try:
            constraints = DesignConstraints.of_target(self.spec.constraints, target_constraint)
            bound = None if constraints is None else constraints.bind(structure)
        except RnaDesignError as err:
            _log.error("target %s: %s", target_id, err)
            return {**record, **self._unsolved(target, None, 0.0, f"invalid constraint: {err}")}
        record["constraints"] = None if constraints is None else constraints.to_dict()
        child_spec = self._spec_for(target, seed, constraints)
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "PYTHONWARNINGS": "ignore",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "rnadesign.benchmark.attempt", json.dumps(child_spec)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the runner only; it decides what to kill
        )
        with self.lock:
            self.live.add(proc)
        timed_out = False
        try:
            stdout, stderr = proc.communicate(timeout=self.spec.time_limit + GRACE_S)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            stdout, stderr = proc.communicate()
        finally:
            with self.lock:
                self.live.discard(proc)
        if self.stopping.is_set():
            return None  # interrupted: leave it for the next run
        if self.spec.shard is not None:
            record["shard"] = shard_label(self.spec.shard)
        elapsed = time.time() - child_spec["launch"]
        best = final = None
        for line in stdout.splitlines():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            best = message.get("best", best)
            final = message.get("result", final)
        outcome = final or best
        # When the attempt first reached its final distance (an unsolved one stalled there from then on).
        work = {"best_at_s": best["time_s"] if best else None}
        counts = ("episodes", "restarts", "lineages", "best_lineage", "folds")
        work.update({k: final[k] for k in counts if final and k in final})
        if timed_out:
            status = f"timeout: killed after {elapsed:.1f}s"
        elif proc.returncode != 0:
            tail = (stderr.strip().splitlines() or ["no output"])[-1]
            status = f"crashed: exit {proc.returncode}: {tail[:300]}"
        else:
            status = None
        return {**record, **self._judge(target, outcome, elapsed, status, bound), **work}

    def _unsolved(
        self,
        target: str,
        outcome: dict | None,
        elapsed: float,
        status: str,
        constraints: BoundConstraints | None = None,
    ) -> dict[str, Any]:
        sequence = outcome["sequence"] if outcome else ""
        distance = len(target)
        structure = ""
        if sequence:
            check = check_design(sequence, target, self.spec.folding)
            structure, distance = check.structure, check.distance
        extra = {}
        if constraints is not None:
            extra["constraints_satisfied"] = bool(sequence) and constraints.satisfied(sequence)
        return {
            "solved": False,
            "solved_unique": False,
            "distance": distance,
            "time_s": round(elapsed, 3),
            "sequence": sequence,
            "structure": structure,
            "status": status,
            "vienna_version": vienna_version(),
            **extra,
        }

    def _judge(
        self,
        target: str,
        outcome: dict | None,
        elapsed: float,
        status: str | None,
        constraints: BoundConstraints | None = None,
    ) -> dict[str, Any]:
        """Refold the design; count it solved only if it folds into the target within the limit (and
        satisfies the constraints)."""
        if outcome is None or not outcome.get("sequence"):
            return self._unsolved(target, None, elapsed, status or "timeout: no design finished", constraints)
        check = check_design(outcome["sequence"], target, self.spec.folding, unique=True)
        in_time = outcome["time_s"] <= self.spec.time_limit
        satisfied = constraints is None or constraints.satisfied(check.sequence)
        if check.solved and in_time and satisfied:
            extra = {} if constraints is None else {"constraints_satisfied": True}
            return {
                "solved": True,
                "solved_unique": bool(check.unique),
                "distance": 0,
                "time_s": outcome["time_s"],
                "sequence": check.sequence,
                "structure": check.structure,
                "status": "solved",
                "vienna_version": vienna_version(),
                **extra,
            }
        if status is None:
            if not check.solved:
                status = "timeout"
            elif not satisfied:
                status = "timeout: the design breaks the constraints"
            else:
                status = f"timeout: solved only at {outcome['time_s']:.1f}s"
        return self._unsolved(target, outcome, elapsed, status, constraints)

    def save(self, record: dict[str, Any]) -> None:
        with self.lock:
            append_json_line(self.out / results_name(self.spec.shard), record)
            self.finished += 1
            self.solved += bool(record["solved"])
        verdict = "solved" if record["solved"] else record["status"]
        _log.info(
            "[%d/%d] target %s run %d: %s (%.1fs, distance %d); %d solved",
            self.finished,
            self.total,
            record["target_id"],
            record["run"],
            verdict,
            record["time_s"],
            record["distance"],
            self.solved,
            extra={"progress": ("benchmark", self.finished, self.total)},
        )

    def interrupt(self) -> None:
        self.stopping.set()
        with self.lock:
            for proc in list(self.live):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)


def check_only(dataset: Dataset, only: tuple[str, ...] | None) -> None:
    """Refuse target ids (``--only``) that ``dataset`` does not have."""
    unknown = sorted(set(only or ()) - {t.name for t in dataset.targets})
    if unknown:
        raise ConfigError(f"{dataset.name} has no target(s) {', '.join(unknown)}")


def _one_writer(run: Any) -> Any:
    """``run_benchmark`` holding the lock of its results file throughout: a second process refuses at once.
    The targets asked for are checked first, so that a wrong one leaves no folder behind."""

    @functools.wraps(run)
    def locked(dataset: Dataset, spec: BenchmarkSpec, out: str | Path) -> list[dict[str, Any]]:
        check_only(dataset, spec.only)
        Path(out).mkdir(parents=True, exist_ok=True)
        with results_lock(Path(out), results_name(spec.shard)):
            return run(dataset, spec, out)

    return locked


@_one_writer
def run_benchmark(dataset: Dataset, spec: BenchmarkSpec, out: str | Path) -> list[dict[str, Any]]:
    """Run every (target, run) attempt of this series not yet in ``out/results.jsonl``; return the series' records.

    A series is everything that changes an outcome (:meth:`BenchmarkSpec.series`); records of
    another series in the same folder are never reused or mixed in. The series' settings are kept
    in ``out/series.json``. With ``spec.shard``, only that shard's attempts, in its own file.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    series = spec.series()
    key = series_id(series)
    _record_series(out, key, series)
    records = read_results(out, spec.shard)
    others = {r.get("series", "(unkeyed)") for r in records if r.get("dataset") == dataset.name} - {key}
    if others:
        _log.info(
            "%s also holds %d other series of %s (%s); this run is series %s, kept apart",
            out,
            len(others),
            dataset.name,
            ", ".join(sorted(others)),
            key,
        )
    # A target's own constraint line is part of the attempt: a record made without it (or with another) is not reused.
    done = {
        (r["target_id"], r["run"], r.get("target_constraint"))
        for r in records
        if r.get("series") == key and r.get("dataset") == dataset.name
    }
    check_only(dataset, spec.only)  # _one_writer checked it before any folder; a direct caller too
    selected = [(i, t) for i, t in enumerate(dataset.targets) if spec.only is None or t.name in spec.only]
    attempts = shard_attempts([(i, t, run) for run in range(spec.runs) for i, t in selected], spec.shard)
    todo = [(i, t, run) for i, t, run in attempts if (t.name, run, t.constraint) not in done]
    total = len(attempts)
    _log.info(
        "%s: %d targets x %d runs%s, method %s, %gs each, %d in parallel; %d already recorded",
        dataset.name,
        len(selected),
        spec.runs,
        "" if spec.shard is None else f", shard {shard_label(spec.shard)} ({total} attempts)",
        spec.method,
        spec.time_limit,
        spec.jobs,
        total - len(todo),
    )
    runner = _Runner(dataset, spec, key, out, len(todo))
    pool = ThreadPoolExecutor(max_workers=spec.jobs)
    try:
        pending = {pool.submit(runner.run_one, i, t.name, t.text, run, t.constraint) for i, t, run in todo}
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                record = future.result()
                if record is not None:
                    runner.save(record)
    except BaseException:
        runner.interrupt()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    constraint_of = {t.name: t.constraint for t in dataset.targets}  # a record made under another line is stale
    return [
        r
        for r in read_results(out, spec.shard)
        if r.get("series") == key
        and r.get("dataset") == dataset.name
        and constraint_of.get(r.get("target_id"), r.get("target_constraint")) == r.get("target_constraint")
        and (spec.only is None or r.get("target_id") in spec.only)
    ]


SERIES = "series.json"


def _record_series(out: Path, key: str, series: dict[str, Any]) -> None:
    path = out / SERIES
    known = {}
    if path.exists():
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CorruptFileError(f"{path}: not a JSON object of series; move it aside to go on") from None
        if not isinstance(known, dict):
            raise CorruptFileError(f"{path}: not a JSON object of series; move it aside to go on")
    if key not in known:
        known[key] = series
        atomic_write_json(path, known)
