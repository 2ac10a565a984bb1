"""Summaries of benchmark results: counts at time checkpoints, a table, a plot, a comparison, merged shards."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import RnaDesignError
from ..files import save_figure
from ..model.folding import vienna_version
from ..model.structure import InvalidStructureError, parse_structure
from .datasets import natural_key, published_dir

__all__ = [
    "CHECKPOINTS",
    "compare",
    "merge_shards",
    "plot",
    "published_counts",
    "shard_summary_name",
    "summarize",
    "table",
]
_log = logging.getLogger(__name__)

CHECKPOINTS = [1, 10, 30, 60, 300, 600, 1800, 3600, 14400, 86400]
PUBLISHED_METHODS = ["LEARNA", "Meta-LEARNA", "Meta-LEARNA-Adapt"]
#: Runs per target behind the paper's union counts (data/SOURCES.md).
PUBLISHED_RUNS = {"eterna100-v1": 5, "rfam-taneda": 50, "rfam-learn-test": 5}


def _checkpoints(time_limit: float) -> list[float]:
    points = [c for c in CHECKPOINTS if c < time_limit]
    return [*points, time_limit]


def _label(seconds: float) -> str:
    return f"{seconds:g}"


def summarize(
    records: list[dict[str, Any]],
    *,
    dataset: str,
    method: str,
    time_limit: float,
    n_targets: int,
    runs: int,
    config: Any,
) -> dict[str, Any]:
    """Summary of one method's records (already filtered to one dataset and time limit)."""
    first_solve: dict[str, float] = {}
    unique: set[str] = set()
    per_run: dict[int, int] = {}
    for r in records:
        if r["solved"]:
            first_solve[r["target_id"]] = min(first_solve.get(r["target_id"], float("inf")), r["time_s"])
            per_run[r["run"]] = per_run.get(r["run"], 0) + 1
            if r.get("solved_unique"):
                unique.add(r["target_id"])
    statuses: dict[str, int] = {}
    for r in records:
        key = r["status"].split(":")[0]
        statuses[key] = statuses.get(key, 0) + 1
    targets = {r["target_id"]: (r["target"], r.get("folding")) for r in records}
    return {
        "dataset": dataset,
        "method": method,
        "time_limit": time_limit,
        "n_targets": n_targets,
        "runs": runs,
        "attempts_recorded": len(records),
        "solved": len(first_solve),
        "solved_unique": len(unique),
        "mean_solved_per_run": round(sum(per_run.get(run, 0) for run in range(runs)) / runs, 3),
        "solved_at": {_label(c): sum(t <= c for t in first_solve.values()) for c in _checkpoints(time_limit)},
        "median_time_solved_s": round(statistics.median(first_solve.values()), 3) if first_solve else None,
        "statuses": statuses,
        "undesignable": sorted((i for i, (t, model) in targets.items() if _undesignable(t, model)), key=natural_key),
        "vienna_version": vienna_version(),
        "config": config,
    }


def _undesignable(target: str, folding: dict | None) -> bool:
    """Whether :mod:`~rnadesign.model.designability` proves that no sequence folds into ``target`` under the
    records' model (only by its loops when that model cannot be made again here, e.g. a moved file)."""
    from ..model.designability import undesignable
    from ..model.folding import FoldingModel

    try:
        structure = parse_structure(target, warn=False)
    except InvalidStructureError:
        return False
    try:
        model = FoldingModel(**folding) if folding else FoldingModel()
    except (RnaDesignError, TypeError):
        return bool(structure.unfoldable_loops())
    return bool(undesignable(structure, model))


def table(summary: dict[str, Any]) -> str:
    """A readable plain-text table of one summary."""
    lines = [
        f"{summary['dataset']} / {summary['method']} / {summary['time_limit']:g}s per target, "
        f"{summary['runs']} run(s), ViennaRNA {summary['vienna_version']}"
        + (f", series {summary['series']['id']}" if "series" in summary else ""),
        f"  solved {summary['solved']}/{summary['n_targets']} (unique MFE {summary['solved_unique']}), "
        f"mean per run {summary['mean_solved_per_run']}",
        "  " + "  ".join(f"{k:>6}s" for k in summary["solved_at"]),
        "  " + "  ".join(f"{v:>7}" for v in summary["solved_at"].values()),
        f"  attempts: {', '.join(f'{k} {v}' for k, v in sorted(summary['statuses'].items()))}",
    ]
    if summary.get("attempts_torn"):  # merged shards with a record cut short
        lines.append(f"  missing (torn records, not counted): {'; '.join(summary['attempts_torn'])}")
    undesignable = summary.get("undesignable")  # absent from summaries written before it was recorded
    if undesignable:
        lines.append(
            f"  no sequence can fold into {len(undesignable)} target(s) (rnadesign.model.designability): "
            + ", ".join(undesignable)
        )
    return "\n".join(lines)


def _published_tables(dataset: str, filename: str) -> dict[str, list[dict[str, str]]]:
    """Rows of one of the LEARNA paper's tables (e.g. ``time_limit.tsv``) for each published method."""
    folder = published_dir(dataset)
    if folder is None:
        return {}
    tables = {}
    for method in PUBLISHED_METHODS:
        path = folder / method / filename
        if path.exists():
            with open(path, encoding="utf-8") as f:
                tables[method] = list(csv.DictReader(f, delimiter="\t"))
    return tables


def published_counts(dataset: str) -> dict[str, dict[float, int]]:
    """The LEARNA paper's solved counts at its time limits (``time_limit.tsv``), per method."""
    return {
        method: {float(row["time"]): int(row["solved"]) for row in rows}
        for method, rows in _published_tables(dataset, "time_limit.tsv").items()
    }


def _published_curves(dataset: str, n_targets: int) -> dict[str, tuple[list[float], list[float]]]:
    """The paper's solved-over-time curves (``min.tsv``, percentages) as target counts."""
    curves = {}
    for method, rows in _published_tables(dataset, "min.tsv").items():
        # The tables open with a placeholder point at t = 1e-10; the first real solve is seconds in.
        points = [(float(r["time"]), float(r["solved"]) * n_targets / 100) for r in rows if float(r["time"]) >= 0.1]
        curves[method] = ([t for t, _ in points], [c for _, c in points])
    return curves


def plot(out: Path, records: list[dict[str, Any]], *, dataset: str, n_targets: int) -> Path:
    """``out/solved_vs_time.png``: targets solved against time, one line per method in the records."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4.5))
    methods: dict[str, dict[str, float]] = {}
    limits: dict[str, float] = {}
    names: dict[str, str] = {}
    for r in records:
        if r.get("dataset") != dataset:
            continue
        series = r.get("series", "unkeyed")
        names[series] = f"{r['method']} ({r['time_limit']:g}s limit)"
        times = methods.setdefault(series, {})
        limits[series] = r["time_limit"]
        if r["solved"]:
            times[r["target_id"]] = min(times.get(r["target_id"], float("inf")), r["time_s"])
    labels = list(names.values())
    for series, name in names.items():  # two series of one method and limit: tell them apart by id
        if labels.count(name) > 1:
            names[series] = f"{name} [{series}]"
    methods = {names[k]: v for k, v in methods.items()}
    limits = {names[k]: v for k, v in limits.items()}
    for key, times in sorted(methods.items()):
        xs = sorted(times.values())
        ax.step(
            [min(xs[0], 0.1) if xs else 0.1, *xs, limits[key]],
            [0, *range(1, len(xs) + 1), len(xs)],
            where="post",
            label=f"{key}: ours",
        )
    for method, (xs, ys) in _published_curves(dataset, n_targets).items():
        ax.plot(xs, ys, linestyle="--", alpha=0.7, label=f"{method} (published, ICLR 2019)")
    ax.set_xscale("log")
    ax.set_xlim(left=0.5)
    ax.set_xlabel("time per target (s, log scale)")
    ax.set_ylabel(f"targets solved (of {n_targets})")
    ax.set_ylim(0, n_targets * 1.02)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{dataset}: targets solved over time (ViennaRNA {vienna_version()})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path = Path(out) / "solved_vs_time.png"
    return save_figure(fig, path)


def _load_summaries(folder: Path) -> list[dict[str, Any]]:
    files = sorted(folder.glob("summary-*.json")) or sorted(folder.glob("summary.json"))  # one per method and limit
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def compare(folders: list[str | Path]) -> str:
    """One Markdown table of the summaries in several result folders, with the paper's figures. Rows of one
    dataset, method and limit (an ablation's arms, two seeds) are told apart by their folder's name."""
    summaries, names = [], []
    for folder in folders:
        found = _load_summaries(Path(folder))
        if not found:
            raise RnaDesignError(f"{folder}: no summary.json (run 'rnadesign benchmark' into it first)")
        summaries += found
        names += [Path(folder).resolve()] * len(found)
    keys = [(s["dataset"], s["method"], s["time_limit"]) for s in summaries]
    # a folder's name, or its parent's too where two folders share a name (runs/seed-1/search, runs/seed-2/search)
    shared = Counter(folder.name for folder in set(names))
    short = [n.name if shared[n.name] == 1 else f"{n.parent.name}/{n.name}" for n in names]
    datasets = sorted({s["dataset"] for s in summaries})
    points = sorted({float(k) for s in summaries for k in s["solved_at"]})
    header = "| dataset | method | limit | runs | " + " | ".join(f"{_label(p)} s" for p in points) + " | ViennaRNA |"
    rows = [header, "|" + "---|" * (len(points) + 5)]
    for s, name, key in zip(summaries, short, keys):
        counts = {float(k): v for k, v in s["solved_at"].items()}
        cells = [f"{counts[p]}/{s['n_targets']}" if p in counts else "" for p in points]
        method = s["method"] if keys.count(key) == 1 or name == s["method"] else f"{s['method']} ({name})"
        rows.append(
            f"| {s['dataset']} | {method} | {s['time_limit']:g}s | {s['runs']} | "
            + " | ".join(cells)
            + f" | {s['vienna_version']} |"
        )
    for dataset in datasets:
        n = next(s["n_targets"] for s in summaries if s["dataset"] == dataset)
        for method, counts in published_counts(dataset).items():
            cells = [f"{counts[p]}/{n}" if p in counts else "" for p in points]
            rows.append(
                f"| {dataset} | {method} (published, ICLR 2019) | | {PUBLISHED_RUNS.get(dataset, '')} | "
                + " | ".join(cells)
                + " | 2.4 (paper) |"
            )
    return "\n".join(rows)


def series_summary_name(summary: dict[str, Any]) -> str:
    """The summary file of a whole benchmark beside ``summary.json``: ``summary-METHOD-LIMITs-SERIES.json``, one
    per series, the rows ``benchmark compare`` reads."""
    return f"summary-{summary['method']}-{summary['time_limit']:g}s-{summary['series']['id']}.json"


def shard_summary_name(shard: tuple[int, int]) -> str:
    """The summary file of one shard (not ``summary-*.json``: a shard is not a row of ``compare``)."""
    return f"shard-{shard[0]}-of-{shard[1]}-summary.json"


_SHARD_SUMMARY = re.compile(r"shard-(\d+)-of-(\d+)-summary\.json")
#: What the shards of one benchmark must share besides the series (which covers every outcome-changing
#: setting): the attempts they were cut from.
_SHARED = ("dataset", "method", "time_limit", "n_targets", "runs")


def merge_shards(folders: list[str | Path]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The summary of the shards found in ``folders`` (one folder or several) as one benchmark, and its records.

    Raises:
        RnaDesignError: no shard; shards of different settings (series), sets, limits, runs or shard
            counts; a shard found twice; an attempt recorded by two shards.
    """
    from .spec import read_results

    found: dict[int, tuple[Path, dict[str, Any]]] = {}
    total = None
    for folder in map(Path, folders):
        paths = sorted(p for p in folder.glob("shard-*-of-*-summary.json") if _SHARD_SUMMARY.fullmatch(p.name))
        if not paths:
            raise RnaDesignError(f"{folder}: no shard summary (run 'rnadesign benchmark ... --shard K/N' into it)")
        for path in paths:
            try:
                summary = json.loads(path.read_text(encoding="utf-8"))
                k, n = map(int, summary["series"]["shard"].split("/"))
            except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError):
                raise RnaDesignError(f"{path}: not a shard summary") from None
            if total is None:
                total, first, first_path = n, summary, path
            if n != total:
                raise RnaDesignError(f"mixed shard counts: {first_path} is one of {total}, {path} one of {n}")
            for key in _SHARED:
                if summary[key] != first[key]:
                    raise RnaDesignError(
                        f"mixed settings: {key} is {first[key]!r} in {first_path} but {summary[key]!r} in {path}"
                    )
            same_attempts = summary["series"].get("only") == first["series"].get("only")
            if summary["series"]["id"] != first["series"]["id"] or not same_attempts:
                raise RnaDesignError(
                    f"mixed settings: {first_path} is series {first['series']['id']} and {path} series "
                    f"{summary['series']['id']} (see series.json in each folder for what differs)"
                )
            if k in found:
                raise RnaDesignError(f"shard {k}/{n} found twice: {found[k][0]} and {path}")
            found[k] = (path, summary)
    assert total is not None
    missing = sorted(set(range(1, total + 1)) - set(found))
    if missing:
        _log.warning("shard(s) %s of %d missing: this summary covers the others", ",".join(map(str, missing)), total)
    records, seen = [], {}
    torn = _torn_attempts(found, total)
    for k, (path, summary) in sorted(found.items()):
        for r in read_results(path.parent, (k, total)):
            if r.get("series") != summary["series"]["id"] or r.get("dataset") != summary["dataset"]:
                continue
            attempt = (r["target_id"], r["run"])
            if attempt in seen:
                raise RnaDesignError(f"target {attempt[0]} run {attempt[1]} is in shard {seen[attempt]} and {k}")
            seen[attempt] = k
            records.append(r)
    merged = summarize(
        records,
        dataset=first["dataset"],
        method=first["method"],
        time_limit=first["time_limit"],
        n_targets=first["n_targets"],
        runs=first["runs"],
        config=first["config"],
    )
    series = {key: value for key, value in first["series"].items() if key not in ("shard", "attempts")}
    merged["series"] = {**series, "shards": total, "shards_merged": sorted(found), "shards_missing": missing}
    if torn:
        merged["attempts_torn"] = torn
    return merged, records


def _torn_attempts(found: dict[int, tuple[Path, dict[str, Any]]], total: int) -> list[str]:
    """The attempts whose record a kill cut short in a shard's results file, each warned about: the
    merged summary counts without them, and says so (``attempts_torn``)."""
    from .records import torn_attempt, torn_tail
    from .spec import results_name

    torn = []
    for k, (path, _) in sorted(found.items()):
        results = path.parent / results_name((k, total))
        line = torn_tail(results)
        if line is not None:
            attempt = torn_attempt(line)
            _log.warning(
                "%s: the last line is torn (a write cut short): %s is missing from this summary; "
                "run shard %d/%d again to record it",
                results,
                attempt,
                k,
                total,
            )
            torn.append(f"shard {k}/{total}: {attempt}")
    return torn
