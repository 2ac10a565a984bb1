"""Comparing optimizers: the incumbent's loss over wall time of several runs, and whether the difference is real.

Each run's incumbent follows :meth:`autorl.report.Run.trajectory` (a result on a larger budget
replaces one on a smaller budget; on the same budget a lower loss wins), measured from the run's
first evaluation. Runs are compared at the same wall time, by default the end of the shortest run,
so a longer run gains nothing from its extra time.

The test is :func:`rnadesign.benchmark.stats.mixed_model_test`: where the incumbents' evaluations
recorded a distance per target (``learna`` and ``hybrid`` searches), the outcome is that distance,
with target and run as crossed random effects (a run's incumbent is measured on every target);
otherwise (``meta``) it is each run's loss, with the seed as random effect (runs of one seed share
the evaluation seeds).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnadesign.benchmark.stats import format_test, mixed_model_test
from rnadesign.files import save_figure

from .errors import AutoRLError
from .report import Evaluation, Run, load_run
from .runfile import read_run_file

__all__ = ["RunCurve", "compare_runs", "incumbent_at", "method_of"]


def method_of(run: Run) -> tuple[str, int]:
    """The optimizer (with its prior, for PriorBand) and the seed of a run, from its ``run.json``."""
    described = read_run_file(run.directory) or {}
    entry = (described.get("runs") or [{}])[-1]
    settings = entry.get("settings") or {}
    optimizer = entry.get("optimizer") or "bohb"
    if entry.get("prior"):
        optimizer = f"{optimizer}({entry['prior'].get('name', 'prior')})"
    return optimizer, int(settings.get("seed", 0))


def incumbent_at(run: Run, seconds: float) -> Evaluation | None:
    """The run's incumbent ``seconds`` after its first evaluation started (None: none finished by then)."""
    steps = [e for e in run.trajectory() if e.finished - run.time_ref <= seconds]
    return steps[-1] if steps else None


@dataclass
class RunCurve:
    """One run in a comparison."""

    run: Run
    method: str
    seed: int
    duration: float

    def loss_at(self, seconds: float) -> float | None:
        e = incumbent_at(self.run, seconds)
        return None if e is None else e.loss


def _curves(directories: list[str | Path]) -> list[RunCurve]:
    curves = []
    for directory in directories:
        run = load_run(directory)
        done = [e for e in run.evaluations if e.loss is not None]
        if not done:
            raise AutoRLError(f"{directory}: no successful evaluation yet, nothing to compare")
        method, seed = method_of(run)
        duration = max(e.finished for e in run.evaluations) - run.time_ref
        curves.append(RunCurve(run, method, seed, duration))
    modes = sorted({c.run.mode for c in curves})
    if len(modes) > 1:
        raise AutoRLError(f"the runs are searches of different modes ({', '.join(modes)}): their losses differ in kind")
    return curves


def _plot(curves: list[RunCurve], at: float, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = sorted({c.method for c in curves})
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(methods)}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    labelled = set()
    for c in curves:
        steps = [e for e in c.run.trajectory() if e.finished - c.run.time_ref <= at]
        if not steps:
            continue
        xs = [e.finished - c.run.time_ref for e in steps]
        ys = [e.loss for e in steps]
        label = c.method if c.method not in labelled else None
        labelled.add(c.method)
        ax.step([*xs, at], [*ys, ys[-1]], where="post", color=colours[c.method], alpha=0.8, label=label)
    ax.set_xlabel("wall time (s)")
    ax.set_ylabel("incumbent loss")
    ax.set_title(f"{len(curves)} runs, compared at {at:.0f} s")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def _rows(curves: list[RunCurve], at: float) -> tuple[list[dict[str, Any]], tuple[str, ...], str]:
    incumbents = [(c, incumbent_at(c.run, at)) for c in curves]
    incumbents = [(c, e) for c, e in incumbents if e is not None]
    if incumbents and all(isinstance(e.info.get("distances"), list) for _, e in incumbents):
        rows = [
            {"method": c.method, "target": i, "run": f"{c.method}/{c.run.directory}", "y": float(d)}
            for c, e in incumbents
            for i, d in enumerate(e.info["distances"])
        ]
        return rows, ("target", "run"), "the incumbent's normalised distance per target"
    rows = [{"method": c.method, "seed": c.seed, "y": float(e.loss)} for c, e in incumbents]
    return rows, ("seed",), "the incumbent's loss per run"


def compare_runs(directories: list[str | Path], *, at: float | None = None, plot: str | Path | None = None) -> str:
    """The comparison as Markdown: each run's incumbent at a quarter, half and all of the wall time, then the test.

    Args:
        directories: run directories (several seeds of each optimizer).
        at: wall time to compare at (default: the shortest run's duration).
        plot: where to draw the incumbents' losses over wall time (PNG), if anywhere.

    Raises:
        AutoRLError: a directory holds no run, or no successful evaluation, or the runs' modes differ.
    """
    if len(directories) < 2:
        raise AutoRLError("give at least two runs to compare")
    curves = _curves(directories)
    shortest = min(c.duration for c in curves)
    at = shortest if at is None else at
    if not at > 0:
        raise AutoRLError(f"the wall time to compare at must be positive, got {at:g}")
    points = [at / 4, at / 2, at]

    def cell(loss: float | None) -> str:
        return "-" if loss is None else f"{loss:.4f}"

    lines = [
        f"Incumbent loss of {len(curves)} {curves[0].run.mode} runs at {at:.0f} s of wall time"
        + (" (the shortest run's length)" if at == shortest else ""),
        "",
        "| method | seed | run | evaluations | " + " | ".join(f"{p:.0f} s" for p in points) + " |",
        "|---|---|---|---|" + "---|" * len(points),
    ]
    for c in sorted(curves, key=lambda c: (c.method, c.seed)):
        done = sum(1 for e in c.run.evaluations if e.finished - c.run.time_ref <= at)
        lines.append(
            f"| {c.method} | {c.seed} | {c.run.directory.name} | {done} | "
            + " | ".join(cell(c.loss_at(p)) for p in points)
            + " |"
        )
    lines += ["", "| method | runs | mean loss at the end | SD | best |", "|---|---|---|---|---|"]
    for method in sorted({c.method for c in curves}):
        losses = [loss for c in curves if c.method == method and (loss := c.loss_at(at)) is not None]
        sd = statistics.stdev(losses) if len(losses) > 1 else float("nan")
        mean = f"{statistics.mean(losses):.4f}" if losses else "-"
        best = f"{min(losses):.4f}" if losses else "-"
        lines.append(f"| {method} | {len(losses)} | {mean} | {sd:.4f} | {best} |")
    missing = [c for c in curves if c.loss_at(at) is None]
    if missing:
        names = ", ".join(c.run.directory.name for c in missing)
        lines += ["", f"No incumbent by {at:.0f} s (left out of the test): {names}."]
    rows, random, outcome = _rows(curves, at)
    lines += ["", format_test(mixed_model_test(rows, random=random), outcome=outcome)]
    if plot is not None:
        lines += ["", f"Plot: {_plot(curves, at, Path(plot))}"]
    return "\n".join(lines)
