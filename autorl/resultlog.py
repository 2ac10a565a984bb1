"""The live log: ``configs.json`` and ``results.json``, in hpbandster's format, written and read back here.

One JSON value a line, appended and fsynced as each evaluation finishes, so a killed run loses at
most the line being written (a torn last line, which readers ignore and the next append sets aside):

* ``configs.json``: ``[config_id, config, config_info]``;
* ``results.json``: ``[config_id, budget, timestamps, result, exception]``.

The rows are checked when read: a row that is not of that shape is an error naming the file and
line, not a ``KeyError`` somewhere later.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnadesign.files import append_json_line, read_json_lines

from .compat import plain
from .errors import AutoRLError

__all__ = [
    "CONFIGS",
    "RESULTS",
    "ConfigRow",
    "ResultLog",
    "ResultRow",
    "has_log",
    "logged_ids",
    "previous_result",
    "read_configs",
    "read_log",
    "read_results",
]

CONFIGS = "configs.json"
RESULTS = "results.json"
_log = logging.getLogger(__name__)

ConfigId = tuple[int, ...]


@dataclass(frozen=True)
class ConfigRow:
    """One line of ``configs.json``."""

    config_id: ConfigId
    config: dict[str, Any]
    config_info: Any


@dataclass(frozen=True)
class ResultRow:
    """One line of ``results.json``; ``result`` is None when the evaluation failed."""

    config_id: ConfigId
    budget: float
    timestamps: dict[str, float]
    result: dict[str, Any] | None
    exception: str | None

    @property
    def loss(self) -> float | None:
        """The loss, or None for a failed evaluation (or a non-finite loss, which BOHB treats as failed)."""
        loss = (self.result or {}).get("loss")
        return float(loss) if loss is not None and math.isfinite(loss) else None


def _line_number(path: Path, index: int) -> int:
    """The line of ``path`` that holds its ``index``-th value (read_json_lines skips blank lines)."""
    seen = -1
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if line.strip():
            seen += 1
            if seen == index:
                return number
    return index + 1


def _bad_row(path: Path, index: int, problem: str) -> AutoRLError:
    return AutoRLError(f"{path}: line {_line_number(path, index)}: {problem}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _config_id(value: Any) -> ConfigId | None:
    if isinstance(value, list) and value and all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        return tuple(value)
    return None


def read_configs(directory: str | Path) -> list[ConfigRow]:
    """The rows of ``directory/configs.json`` (none without the file).

    Raises:
        AutoRLError: a line that is not JSON, or not ``[config_id, config, config_info]`` (file and line named).
    """
    path = Path(directory) / CONFIGS
    rows = []
    for index, row in enumerate(read_json_lines(path)):
        # hpbandster's own reader also takes [config_id, config], from its older versions
        if not isinstance(row, list) or len(row) not in (2, 3):
            raise _bad_row(path, index, f"expected [config_id, config, config_info], got {_short(row)}")
        config_id = _config_id(row[0])
        if config_id is None:
            raise _bad_row(path, index, f"a config id is a list of integers, got {_short(row[0])}")
        if not isinstance(row[1], dict):
            raise _bad_row(path, index, f"a configuration is a JSON object, got {_short(row[1])}")
        rows.append(ConfigRow(config_id, row[1], row[2] if len(row) == 3 else "N/A"))
    return rows


def read_results(directory: str | Path) -> list[ResultRow]:
    """The rows of ``directory/results.json`` (none without the file).

    Raises:
        AutoRLError: a line that is not JSON, or not ``[config_id, budget, timestamps, result, exception]``.
    """
    path = Path(directory) / RESULTS
    rows = []
    for index, row in enumerate(read_json_lines(path)):
        if not isinstance(row, list) or len(row) != 5:
            expected = "[config_id, budget, timestamps, result, exception]"
            raise _bad_row(path, index, f"expected {expected}, got {_short(row)}")
        raw_id, budget, stamps, result, exception = row
        config_id = _config_id(raw_id)
        if config_id is None:
            raise _bad_row(path, index, f"a config id is a list of integers, got {_short(raw_id)}")
        if not _is_number(budget):
            raise _bad_row(path, index, f"a budget is a number, got {_short(budget)}")
        if not isinstance(stamps, dict) or not all(_is_number(v) for v in stamps.values()):
            raise _bad_row(path, index, f"timestamps are a JSON object of numbers, got {_short(stamps)}")
        if result is not None and (
            not isinstance(result, dict)
            or not (result.get("loss") is None or _is_number(result["loss"]))
            or not isinstance(result.get("info") or {}, dict)
        ):
            expected = '{"loss": number, "info": {...}}'
            raise _bad_row(path, index, f"a result is null or {expected}, got {_short(result)}")
        if exception is not None and not isinstance(exception, str):
            raise _bad_row(path, index, f"an exception is null or text, got {_short(exception)}")
        rows.append(ResultRow(config_id, float(budget), stamps, result, exception))
    return rows


def read_log(directory: str | Path) -> tuple[dict[ConfigId, ConfigRow], list[ResultRow]]:
    """Both files of the log: configurations by id, and results, each of a logged configuration.

    Raises:
        AutoRLError: a malformed row, or a result of a configuration ``configs.json`` lacks.
    """
    directory = Path(directory)
    configs = {row.config_id: row for row in read_configs(directory)}
    results = read_results(directory)
    for index, row in enumerate(results):
        if row.config_id not in configs:
            raise _bad_row(directory / RESULTS, index, f"config {row.config_id} is not in {CONFIGS}")
    return configs, results


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def has_log(directory: str | Path) -> bool:
    """Whether ``directory`` holds a run's results (an empty file does not count)."""
    path = Path(directory) / RESULTS
    return path.exists() and path.stat().st_size > 0


def logged_ids(directory: str | Path) -> list[ConfigId]:
    """Config ids already in ``directory/configs.json`` (none if there is no log)."""
    return [row.config_id for row in read_configs(directory)]


def previous_result(directory: str | Path) -> Any:
    """The log in ``directory`` as an hpbandster ``Result``, to warm-start BOHB from.

    hpbandster's own ``logged_results_to_HBS_result`` does the same, but fails on a torn last line,
    on a row of the wrong shape, and (in the warm start) on a failed evaluation, each with a bare
    traceback; this reads through :func:`read_log`, and gives a failed evaluation loss +inf.
    """
    from hpbandster.core.base_iteration import Datum
    from hpbandster.core.result import Result

    directory = Path(directory)
    configs, results = read_log(directory)
    data = {key: Datum(config=row.config, config_info=row.config_info) for key, row in configs.items()}
    budgets: set[float] = set()
    time_ref = math.inf
    for row in results:
        datum = data[row.config_id]
        # the warm start reads "submitted" and "finished" of every run, which a worker's death may leave out
        submitted = row.timestamps.get("submitted", row.timestamps.get("started", 0.0))
        finished = row.timestamps.get("finished", row.timestamps.get("started", submitted))
        datum.time_stamps[row.budget] = {**row.timestamps, "submitted": submitted, "finished": finished}
        # hpbandster's warm start turns a failed run into {"loss": None} and then fails on
        # np.isfinite(None); a live BOHB counts a failure as loss +inf, so the warm start does too
        datum.results[row.budget] = row.result if row.loss is not None else {"loss": math.inf, "info": {}}
        datum.exceptions[row.budget] = row.exception
        budgets.add(row.budget)
        time_ref = min(time_ref, submitted)
    if not budgets:
        raise AutoRLError(f"{directory / RESULTS}: no results to resume from")
    budget_list = sorted(budgets)
    config = {
        "eta": None if len(budget_list) < 2 else budget_list[1] / budget_list[0],
        "min_budget": budget_list[0],
        "max_budget": budget_list[-1],
        "budgets": budget_list,
        "max_SH_iter": len(budget_list),
        "time_ref": time_ref,
    }
    return Result([data], config)


class ResultLog:
    """hpbandster's live log (``configs.json``, ``results.json``), appended to and fsynced as results come.

    Unlike hpbandster's own logger it appends to an existing log (a resumed run goes on in the same
    directory: its iteration numbers are offset past the old ones, so ids stay unique), and it
    writes plain JSON values whatever numpy types the configurations hold. Each finished
    evaluation is also a progress record on the ``autorl.resultlog`` logger.
    """

    def __init__(self, directory: str | Path, expected: int | None = None):
        directory = Path(directory)
        self.configs = directory / CONFIGS
        self.results = directory / RESULTS
        self.expected = expected
        """Evaluations this run will make, when known: progress is then ``finished / expected``."""
        self.offset = 1 + max((i[0] for i in logged_ids(directory)), default=-1)
        self.seen: set[ConfigId] = set()
        self.count = 0

    def _id(self, config_id) -> list[int]:
        return [int(config_id[0]) + self.offset, *(int(i) for i in config_id[1:])]

    def new_config(self, config_id, config, config_info) -> None:
        key = tuple(self._id(config_id))
        if key not in self.seen:
            self.seen.add(key)
            append_json_line(self.configs, plain([list(key), dict(config), config_info]))

    def __call__(self, job) -> None:
        self.new_config(job.id, job.kwargs["config"], {})
        budget = float(job.kwargs["budget"])
        append_json_line(self.results, plain([self._id(job.id), budget, job.timestamps, job.result, job.exception]))
        self.count += 1
        started, finished = job.timestamps.get("started"), job.timestamps.get("finished")
        took = f" in {finished - started:.1f}s" if started and finished else ""
        where = f"config {tuple(self._id(job.id))} at budget {budget:g}"
        if job.result is None:
            reason = (job.exception or "no result").strip().splitlines()[-1]
            outcome = f"failed{took} ({reason})"
        else:
            info = job.result.get("info") or {}
            solved = f", solved {info['solved']}/{info['targets']}" if "solved" in info else ""
            outcome = f"loss {job.result['loss']:.4f}{solved}{took}"
        if self.expected:
            _log.info(
                "[%d/%d] %s: %s", self.count, self.expected, where, outcome,
                extra={"progress": ("autorl", self.count, self.expected)},
            )  # fmt: skip
        else:
            _log.info("[%d] %s: %s", self.count, where, outcome)
