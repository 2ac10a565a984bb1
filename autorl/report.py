"""Reading a run's live log: the incumbent, its trajectory, a plot, and the preset export.

Works on a finished run, a running one and an interrupted one alike: it reads ``configs.json`` and
``results.json`` line by line, as hpbandster writes them (see :mod:`autorl.resultlog`: a torn last
line is ignored, any other bad line is an error naming the file and line).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnadesign.files import atomic_write_json, save_figure

from .errors import AutoRLError
from .resultlog import CONFIGS, RESULTS, read_log
from .runfile import read_run_file
from .space import to_agent_config, to_search_config

__all__ = ["Evaluation", "Run", "export_preset", "load_run", "plot_run", "trajectory_table"]


@dataclass(frozen=True)
class Evaluation:
    """One finished (or failed) evaluation of a configuration on a budget."""

    config_id: tuple[int, ...]
    budget: float
    loss: float | None
    """None when the evaluation failed (its worker crashed or died)."""
    info: dict[str, Any]
    started: float
    finished: float
    exception: str | None = None


@dataclass
class Run:
    """A run's directory, read back."""

    directory: Path
    mode: str
    configs: dict[tuple[int, ...], dict[str, Any]]
    evaluations: list[Evaluation] = field(default_factory=list)

    @property
    def time_ref(self) -> float:
        return min((e.started for e in self.evaluations), default=0.0)

    def incumbent(self) -> dict[str, Any] | None:
        """The best configuration on the largest budget that has a successful evaluation."""
        done = [e for e in self.evaluations if e.loss is not None]
        if not done:
            return None
        top = max(e.budget for e in done)
        best = min((e for e in done if e.budget == top), key=lambda e: (e.loss, e.finished))
        return {
            "config_id": list(best.config_id),
            "budget": best.budget,
            "loss": best.loss,
            "info": best.info,
            "config": self.configs[best.config_id],
        }

    def trajectory(self) -> list[Evaluation]:
        """Evaluations that became the incumbent, in the order they finished.

        A result on a larger budget replaces one on a smaller budget; on the same budget, a lower loss wins.
        """
        steps: list[Evaluation] = []
        for e in sorted((e for e in self.evaluations if e.loss is not None), key=lambda e: e.finished):
            if not steps or e.budget > steps[-1].budget or (e.budget == steps[-1].budget and e.loss < steps[-1].loss):
                steps.append(e)
        return steps


def load_run(directory: str | Path) -> Run:
    """Read a run's directory.

    Raises:
        AutoRLError: ``directory`` holds no autorl run, or a file of it is malformed (file and line named).
    """
    directory = Path(directory)
    if not (directory / CONFIGS).exists() and not (directory / RESULTS).exists():
        raise AutoRLError(f"{directory}: not an autorl run (no configs.json or results.json)")
    described = read_run_file(directory)
    mode = described["mode"] if described is not None else "learna"
    configs, results = read_log(directory)
    evaluations = []
    for row in results:
        stamps = row.timestamps
        evaluations.append(
            Evaluation(
                config_id=row.config_id,
                budget=row.budget,
                loss=row.loss,
                info=(row.result or {}).get("info") or {},
                started=float(stamps.get("started", stamps.get("submitted", 0.0))),
                finished=float(stamps.get("finished", stamps.get("started", 0.0))),
                exception=row.exception,
            )
        )
    return Run(directory, mode, {key: row.config for key, row in configs.items()}, evaluations)


def trajectory_table(run: Run) -> str:
    """The incumbent trajectory as aligned text: when, which configuration, budget, loss, solved."""
    lines = [f"{'time_s':>8}  {'config':<12} {'budget':>8}  {'loss':>8}  solved"]
    for e in run.trajectory():
        solved = f"{e.info['solved']}/{e.info['targets']}" if "solved" in e.info else "-"
        lines.append(f"{e.finished - run.time_ref:8.1f}  {str(e.config_id):<12} {e.budget:8g}  {e.loss:8.4f}  {solved}")
    failed = sum(e.loss is None for e in run.evaluations)
    lines.append(f"{len(run.evaluations)} evaluations, {failed} failed, {len(run.configs)} configurations")
    return "\n".join(lines)


def plot_run(run: Run, path: str | Path) -> Path:
    """Losses over wall time, one colour per budget, with the incumbent's trajectory; written to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    budgets = sorted({e.budget for e in run.evaluations if e.loss is not None})
    cmap = plt.get_cmap("viridis", max(len(budgets), 2))
    for i, budget in enumerate(budgets):
        points = [
            (e.finished - run.time_ref, e.loss) for e in run.evaluations if e.budget == budget and e.loss is not None
        ]
        ax.scatter(*zip(*points), s=18, color=cmap(i), label=f"budget {budget:g}", alpha=0.8)
    steps = run.trajectory()
    if steps:
        xs = [e.finished - run.time_ref for e in steps]
        ys = [e.loss for e in steps]
        end = max(e.finished for e in run.evaluations) - run.time_ref
        ax.step([*xs, end], [*ys, ys[-1]], where="post", color="black", linewidth=1.2, label="incumbent")
    failed = [e.finished - run.time_ref for e in run.evaluations if e.loss is None]
    if failed:
        top = max((e.loss for e in run.evaluations if e.loss is not None), default=1.0)
        ax.scatter(failed, [top] * len(failed), marker="x", color="red", label="failed (drawn at the top)")
    ax.set_xlabel("wall time (s)")
    ax.set_ylabel("loss (mean best normalised distance)")
    ax.set_title(f"autorl {run.mode} search: {run.directory.name}")
    ax.grid(alpha=0.3)
    if budgets or failed:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def export_preset(run: Run, path: str | Path) -> dict[str, Any]:
    """Write the incumbent as a configuration file ``rnadesign design --config`` and ``meta-train --config`` read.

    The file is ``{"agent": {env, network, ppo, name}, "search": {...}}``: rnadesign reads the
    ``agent`` part; ``search`` records where it came from (run, config id, budget, loss, and the
    meta-trained policy file for a ``meta`` search).

    Raises:
        AutoRLError: the run has no successful evaluation yet.
        ConfigError: the incumbent's configuration does not make a valid agent.
    """
    incumbent = run.incumbent()
    if incumbent is None:
        raise AutoRLError(f"{run.directory}: no successful evaluation yet, nothing to export")
    path = Path(path)
    if run.mode == "hybrid":  # the search's settings, for rnadesign design --mode hybrid --search-config FILE
        tuned = {"search_config": dataclasses.asdict(to_search_config(incumbent["config"]))}
    else:
        tuned = {"agent": to_agent_config(incumbent["config"], name=path.stem).to_dict()}
    document = {
        **tuned,
        "search": {
            "run": str(run.directory.resolve()),
            "mode": run.mode,
            "config_id": incumbent["config_id"],
            "budget": incumbent["budget"],
            "loss": incumbent["loss"],
            "info": incumbent["info"],
            "config": incumbent["config"],
        },
    }
    atomic_write_json(path, document)
    return document
