"""The records of ``results.jsonl``: checked as they are read, and one writer per results file.

Every reader of a benchmark's results (the runner, the summaries, the statistics, the merge of
shards) takes its records through :func:`check_records`: a record of the wrong shape is one error
naming the file, the line and the field, not a ``KeyError`` or a ``TypeError`` later on. An attempt
recorded twice in one file (two processes that ran the same benchmark into one folder at once) is
refused the same way. :func:`results_lock` keeps a second process from writing into a results file
while one is running; :func:`torn_tail` finds a write cut short by a kill.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import RnaDesignError
from ..files import CorruptFileError, read_json_lines

__all__ = [
    "FIELDS",
    "ResultsBusyError",
    "check_records",
    "results_lock",
    "sample_record",
    "sample_shard_summary",
    "target_records",
    "torn_attempt",
    "torn_tail",
]


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _text_or_null(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _object_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and all(isinstance(k, str) for k in value))


#: Field -> (required, check, what it must be). Records written before a field existed lack the optional ones.
FIELDS: dict[str, tuple[bool, Any, str]] = {
    "dataset": (True, _text, "a string"),
    "target_id": (True, _text, "a string"),
    "target": (True, _text, "a string"),
    "run": (True, _whole, "a whole number >= 0"),
    "method": (True, _text, "a string"),
    "time_limit": (True, _seconds, "a finite number of seconds >= 0"),
    "solved": (True, _flag, "true or false"),
    "time_s": (True, _seconds, "a finite number of seconds >= 0"),
    "status": (True, _text, "a string"),
    "distance": (False, _whole, "a whole number >= 0"),
    "solved_unique": (False, _flag, "true or false"),
    "sequence": (False, _text, "a string"),
    "series": (False, _text, "a string"),
    "shard": (False, _text, "a string"),
    "target_constraint": (False, _text_or_null, "a string or null"),
    "folding": (False, _object_or_null, "a JSON object or null"),
}


def _line_of(path: Path, index: int) -> int:
    """The line of ``path`` holding its ``index``-th (0-based) value (blank lines hold none)."""
    seen = -1
    for number, line in enumerate(path.read_bytes().decode("utf-8", "replace").split("\n"), start=1):
        if line.strip():
            seen += 1
            if seen == index:
                return number
    return index + 1


def _problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return f"not a JSON object: {json.dumps(record)[:60]}"
    for name, (required, check, what) in FIELDS.items():
        if name not in record:
            if required:
                return f"field {name!r} is missing"
            continue
        if not check(record[name]):
            return f"field {name!r} is {json.dumps(record[name])[:40]}, not {what}"
    return None


def sample_record(dataset: str, target_id: str, target: str, **changes: Any) -> dict[str, Any]:
    """A record of the shape :func:`check_records` accepts (a solved ``search`` attempt, run 0), with
    ``changes`` over it: what the reliability tests and ``scripts/fuzz_cli.py`` write and then break."""
    record = {
        "dataset": dataset,
        "target_id": target_id,
        "target": target,
        "run": 0,
        "method": "search",
        "time_limit": 1.0,
        "series": "s",
        "solved": True,
        "time_s": 0.1,
        "status": "solved",
        "distance": 0,
    }
    return {**record, **changes}


def sample_shard_summary(dataset: str, n_targets: int) -> dict[str, Any]:
    """The ``shard-1-of-1-summary.json`` of a one-run ``search`` benchmark of series ``s`` (that of
    :func:`sample_record`), as 'benchmark summary' reads it."""
    return {
        "dataset": dataset,
        "method": "search",
        "time_limit": 1.0,
        "n_targets": n_targets,
        "runs": 1,
        "config": None,
        "series": {"id": "s", "shard": "1/1", "only": None},
    }


def check_records(path: Path, values: list[Any]) -> list[dict[str, Any]]:
    """``values`` (the JSON values of ``path``, one a line, as :func:`~rnadesign.files.read_json_lines`
    reads them) as benchmark records.

    Raises:
        CorruptFileError: a value that is not a record (file, line and field named), or an attempt
            (dataset, series, target, run, constraint line) recorded twice.
    """
    seen: dict[tuple, int] = {}
    for index, record in enumerate(values):
        problem = _problem(record)
        if problem is not None:
            raise CorruptFileError(f"{path}: line {_line_of(path, index)}: {problem}")
        attempt = (
            record["dataset"],
            record.get("series"),
            record["target_id"],
            record["run"],
            record.get("target_constraint"),
        )
        if attempt in seen:
            first, line = _line_of(path, seen[attempt]), _line_of(path, index)
            raise CorruptFileError(
                f"{path}: line {line}: target {record['target_id']} run {record['run']} is recorded twice "
                f"(also line {first}): two processes wrote into this folder at once; keep one of the lines"
            )
        seen[attempt] = index
    return values


def target_records(paths: list[str | Path], target_id: str, *, unsolved: bool = False) -> list[dict[str, Any]]:
    """The records of target ``target_id`` (its id as text) in the results files ``paths``, each file checked by
    :func:`check_records`, in file order; with ``unsolved`` only the attempts that did not solve it."""
    return [
        record
        for path in paths
        for record in check_records(Path(path), read_json_lines(path))
        if str(record["target_id"]) == target_id and not (unsolved and record["solved"])
    ]


def torn_tail(path: Path) -> str | None:
    """The last line of ``path`` if a kill cut its write short (no newline, not JSON), else None."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    if not data or data.endswith(b"\n"):
        return None
    last = data.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")
    try:
        json.loads(last)
    except json.JSONDecodeError:
        return last
    return None


def torn_attempt(line: str) -> str:
    """Which attempt a torn line was recording, as far as its text still says (e.g. ``target 3 run 0``)."""
    target = re.search(r'"target_id":\s*"((?:[^"\\]|\\.)*)"', line)
    run = re.search(r'"run":\s*(\d+)', line)
    if target is None:
        return "an attempt whose target the torn line no longer names"
    return f"target {target[1]}" + ("" if run is None else f" run {run[1]}")


class ResultsBusyError(RnaDesignError):
    """Another process holds the lock of a results file."""


@contextlib.contextmanager
def results_lock(folder: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/name`` (the lock file ``folder/name.lock``) while the block runs.

    Raises:
        ResultsBusyError: another process holds it (refused at once, not waited for).
    """
    path = Path(folder) / f"{name}.lock"
    with open(path, "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ResultsBusyError(
                f"{folder}: another rnadesign benchmark is writing into this folder ({path.name} is locked); "
                "wait for it to finish or give another --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
