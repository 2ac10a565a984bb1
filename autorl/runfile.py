"""``run.json``: what a run directory holds a search of, written by the master, read by everyone else.

``{"mode": "learna" | "meta", "runs": [entry, ...]}``, one entry per start of the master (a resumed
run adds one): its run id, BOHB settings, the task description (:meth:`autorl.worker.Task.describe`),
where it was resumed from, when it started and the ViennaRNA version. Workers of a local run read
their task from the newest entry, so the task is written once, by the process that parsed it.

Standard library and :mod:`rnadesign.files` only: no hpbandster needed to read a run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnadesign.files import atomic_write_json

from .errors import AutoRLError

__all__ = ["RUN_FILE", "append_run", "newest_run", "read_run_file"]

RUN_FILE = "run.json"


def read_run_file(directory: str | Path) -> dict[str, Any] | None:
    """``directory/run.json``, checked for shape; None when there is none (a log hpbandster wrote itself).

    Raises:
        AutoRLError: the file is unreadable, not JSON, or not a run description.
    """
    path = Path(directory) / RUN_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise AutoRLError(f"{path}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise AutoRLError(f"{path}: line {err.lineno}: not JSON ({err.msg})") from None
    runs = data.get("runs", []) if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("mode"), str)
        or not isinstance(runs, list)
        or not all(isinstance(run, dict) for run in runs)
    ):
        raise AutoRLError(f'{path}: not an autorl run description (expected {{"mode": ..., "runs": [...]}})')
    return data


def append_run(directory: str | Path, mode: str, entry: dict[str, Any]) -> Path:
    """Add ``entry`` to ``directory/run.json`` (created if absent), atomically: a reader never sees half a file."""
    data = read_run_file(directory)
    runs = data["runs"] if data is not None else []
    return atomic_write_json(Path(directory) / RUN_FILE, {"mode": mode, "runs": [*runs, entry]})


def newest_run(directory: str | Path, run_id: str | None = None) -> dict[str, Any] | None:
    """The newest entry of ``directory/run.json``; None if there is none yet (or, with ``run_id``, not that run's)."""
    data = read_run_file(directory)
    if data is None or not data.get("runs"):
        return None
    entry = data["runs"][-1]
    if run_id is not None and entry.get("run_id") != run_id:
        return None
    return entry
