"""What mattered in a search: hyperparameter importance per budget, budget correlation, partial dependence.

Reads a run's live log (finished, running or interrupted, like :mod:`autorl.report`) and, for
each budget with enough successful results:

* **fANOVA** (Hutter et al. 2014): the share of the loss's variance over the whole space that each
  hyperparameter explains on its own, from a random forest fitted to that budget's results
  (optuna's :class:`~optuna.importance.FanovaImportanceEvaluator`).
* **Local importance** (LPI, Biedenkapp et al. 2018): around that budget's incumbent, each
  hyperparameter is varied alone over its range (20 points, or every choice) while the others keep
  the incumbent's values; the variance of a random forest's predictions along each such line, as a
  share of their sum, is the hyperparameter's local importance. Our own few lines on scikit-learn,
  not a library's: optuna has no local importance.
* **Partial dependence** (Friedman 2001) of the predicted loss on the top hyperparameters, from the
  same forest: the mean prediction over the budget's configurations with one hyperparameter set to
  each value of its grid. One PNG per budget.

and, between every two budgets, the **rank correlation** of losses (Kendall's tau and Spearman's
rho, ``scipy.stats``) on the configurations evaluated on both. Successive halving promotes only the
best configurations of a budget, so the configurations on both budgets are its top ones: a
correlation among them says whether the cheap budget ranks good configurations as the expensive one
does, not how it ranks the whole space.

Conditional hyperparameters (a conv layer's channels without that layer) have no value in an
inactive configuration; both models see the hyperparameter's default there (documented imputation,
as DeepCAVE imputes a fixed value). A forest fitted to a handful of points explains nothing: a
budget with fewer than :data:`MIN_IMPORTANCE` results is reported as too few, not analysed, and a
pair of budgets with fewer than :data:`MIN_CORRELATION` common configurations likewise.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnadesign.files import atomic_open, save_figure

from .errors import AutoRLError
from .report import Run
from .space import Dimension, active, dimensions, search_space

__all__ = [
    "MIN_CORRELATION",
    "MIN_IMPORTANCE",
    "Analysis",
    "BudgetAnalysis",
    "Correlation",
    "analyze",
    "budget_correlations",
    "budget_losses",
    "fanova_importance",
    "local_importance",
    "markdown",
    "write_configspace",
]

MIN_IMPORTANCE = 10
"""Successful results a budget needs before its importances are computed."""
MIN_CORRELATION = 5
"""Configurations two budgets need in common before their rank correlation is computed."""
GRID = 20
"""Points along a numeric hyperparameter's range, for local importance and partial dependence."""
CONFIGSPACE = "configspace.json"

_log = logging.getLogger(__name__)


def budget_losses(run: Run) -> dict[float, dict[tuple[int, ...], float]]:
    """Successful losses by budget and configuration (a configuration evaluated twice on a budget: its last result)."""
    losses: dict[float, dict[tuple[int, ...], float]] = {}
    for e in sorted(run.evaluations, key=lambda e: e.finished):
        if e.loss is not None:
            losses.setdefault(e.budget, {})[e.config_id] = e.loss
    return dict(sorted(losses.items()))


def _value(d: Dimension, config: dict[str, Any]) -> Any:
    """``config``'s value of ``d``, its default when inactive (the documented imputation)."""
    value = config.get(d.name)
    if value is None or (d.parent is not None and float(config.get(d.parent, 0)) <= 0):
        value = d.default if d.default is not None else _middle(d)
    return value


def _middle(d: Dimension) -> Any:
    if d.kind == "categorical":
        return d.choices[0]
    low, high = d.bounds
    mid = math.sqrt(low * high) if d.log else (low + high) / 2
    return int(round(mid)) if d.kind == "int" else mid


def _encode(dims: list[Dimension], configs: list[dict[str, Any]]) -> np.ndarray:
    """Configurations as forest inputs: log10 for log-scale dimensions, a choice's index for categoricals."""
    rows = []
    for config in configs:
        row = []
        for d in dims:
            v = _value(d, config)
            if d.kind == "categorical":
                row.append(float(d.choices.index(v)) if v in d.choices else -1.0)
            else:
                row.append(math.log10(float(v)) if d.log else float(v))
        rows.append(row)
    return np.asarray(rows, dtype=float)


def _grid(d: Dimension) -> list[Any]:
    if d.kind == "categorical":
        return list(d.choices)
    low, high = d.bounds
    points = np.geomspace(low, high, GRID) if d.log else np.linspace(low, high, GRID)
    if d.kind == "int":
        return sorted({int(round(p)) for p in points})
    return [float(p) for p in points]


def fanova_importance(
    dims: list[Dimension], configs: list[dict[str, Any]], losses: list[float], seed: int = 0
) -> dict[str, float]:
    """fANOVA importances (shares of variance, summing to 1 when any is explained), by optuna, largest first."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {}
    for d in dims:
        if d.kind == "categorical":
            distributions[d.name] = CategoricalDistribution(list(d.choices))
        elif d.kind == "int":
            distributions[d.name] = IntDistribution(int(d.bounds[0]), int(d.bounds[1]), log=d.log)
        else:
            distributions[d.name] = FloatDistribution(float(d.bounds[0]), float(d.bounds[1]), log=d.log)
    study = optuna.create_study(direction="minimize")
    for config, loss in zip(configs, losses):
        params = {}
        for d in dims:
            v = _value(d, config)
            params[d.name] = v if d.kind == "categorical" else (int(v) if d.kind == "int" else float(v))
        study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=float(loss)))
    evaluator = FanovaImportanceEvaluator(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna's experimental-feature notices
        importances = get_param_importances(study, evaluator=evaluator, normalize=True)
    return {name: float(value) for name, value in importances.items()}


def _forest(x: np.ndarray, y: np.ndarray, seed: int):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=100, min_samples_leaf=1, random_state=seed).fit(x, y)


def _along(dims: list[Dimension], base: dict[str, Any], d: Dimension, mode: str) -> list[dict[str, Any]]:
    """``base`` with ``d`` set to each point of its grid, conditions applied (a parent at 0 switches its child off)."""
    out = []
    for v in _grid(d):
        config = {**base, d.name: v}
        for child in dims:  # a child that becomes active takes its default, as an inactive one is imputed
            if child.parent == d.name and child.name not in config:
                config[child.name] = child.default
        out.append(active(config, mode))
    return out


def local_importance(
    dims: list[Dimension], configs: list[dict[str, Any]], losses: list[float], incumbent: dict[str, Any],
    mode: str, seed: int = 0,
) -> dict[str, float]:  # fmt: skip
    """Local importances around ``incumbent`` (shares of the summed prediction variance), largest first.

    A hyperparameter inactive at the incumbent gets 0: varying it there changes nothing.
    """
    forest = _forest(_encode(dims, configs), np.asarray(losses), seed)
    variances = {}
    for d in dims:
        if d.name not in active(incumbent, mode) or d.name not in incumbent:
            variances[d.name] = 0.0
            continue
        predictions = forest.predict(_encode(dims, _along(dims, incumbent, d, mode)))
        variances[d.name] = float(np.var(predictions))
    total = sum(variances.values())
    shares = {k: (v / total if total > 0 else 0.0) for k, v in variances.items()}
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def partial_dependence(
    dims: list[Dimension], configs: list[dict[str, Any]], losses: list[float], d: Dimension, mode: str, forest=None,
    seed: int = 0,
) -> tuple[list[Any], list[float]]:  # fmt: skip
    """Friedman's partial dependence of the predicted loss on ``d``: its grid and the mean prediction at each point."""
    forest = forest or _forest(_encode(dims, configs), np.asarray(losses), seed)
    grid = _grid(d)
    lines = [_along(dims, config, d, mode) for config in configs]
    means = [float(np.mean(forest.predict(_encode(dims, [line[i] for line in lines])))) for i in range(len(grid))]
    return grid, means


@dataclass
class BudgetAnalysis:
    """What one budget's results say."""

    budget: float
    n: int
    fanova: dict[str, float] = field(default_factory=dict)
    local: dict[str, float] = field(default_factory=dict)
    incumbent: dict[str, Any] | None = None
    """``{"config_id", "loss", "config"}`` of the best result on this budget."""
    plot: Path | None = None
    skipped: str | None = None
    """Why the importances were not computed (too few results); None when they were."""

    @property
    def top(self) -> list[str]:
        """Hyperparameters by fANOVA importance, largest first."""
        return list(self.fanova)


@dataclass(frozen=True)
class Correlation:
    """Rank correlation of the losses on two budgets, over the configurations evaluated on both."""

    low: float
    high: float
    n: int
    kendall_tau: float | None = None
    kendall_p: float | None = None
    spearman_rho: float | None = None
    spearman_p: float | None = None
    skipped: str | None = None


def budget_correlations(losses: dict[float, dict[tuple[int, ...], float]]) -> list[Correlation]:
    """Kendall's tau and Spearman's rho between every two budgets, with the number of common configurations."""
    from scipy import stats

    out = []
    budgets = sorted(losses)
    for i, low in enumerate(budgets):
        for high in budgets[i + 1 :]:
            common = sorted(set(losses[low]) & set(losses[high]))
            a = [losses[low][c] for c in common]
            b = [losses[high][c] for c in common]
            n = len(common)
            if n < MIN_CORRELATION:
                out.append(Correlation(low, high, n, skipped=f"too few configurations on both (n={n})"))
            elif len(set(a)) < 2 or len(set(b)) < 2:
                which = f"{low:g}" if len(set(a)) < 2 else f"{high:g}"
                out.append(Correlation(low, high, n, skipped=f"every loss on budget {which} is the same"))
            else:
                tau = stats.kendalltau(a, b)
                rho = stats.spearmanr(a, b)
                out.append(
                    Correlation(low, high, n, float(tau.statistic), float(tau.pvalue),
                                float(rho.statistic), float(rho.pvalue))
                )  # fmt: skip
    return out


@dataclass
class Analysis:
    """A run's analysis: per budget, then between budgets."""

    run: Run
    budgets: list[BudgetAnalysis]
    correlations: list[Correlation]
    configspace: Path | None = None


def _plot(dims: list[Dimension], analysis: BudgetAnalysis, configs, losses, mode: str, top: int, path: Path,
          seed: int) -> Path:  # fmt: skip
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    by_name = {d.name: d for d in dims}
    names = [n for n in analysis.top if analysis.fanova[n] > 0][:top] or analysis.top[:top]
    forest = _forest(_encode(dims, configs), np.asarray(losses), seed)
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        d = by_name[name]
        grid, means = partial_dependence(dims, configs, losses, d, mode, forest=forest)
        observed = [(c[name], loss) for c, loss in zip(configs, losses) if name in c]  # active ones only
        if d.kind == "categorical":
            positions = range(len(grid))
            ax.plot(positions, means, "o-", color="black", label="partial dependence")
            ax.scatter([d.choices.index(v) for v, _ in observed], [y for _, y in observed], s=12, alpha=0.5)
            ax.set_xticks(list(positions), list(grid))
        else:
            ax.plot(grid, means, "-", color="black", label="partial dependence")
            ax.scatter([float(v) for v, _ in observed], [y for _, y in observed], s=12, alpha=0.5, label="results")
            if d.log:
                ax.set_xscale("log")
                # plain numbers, not 3x10^1 on every minor tick (they overlap)
                ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
                ax.xaxis.set_major_formatter(ticker.ScalarFormatter())
                ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel(f"{name} (fANOVA {analysis.fanova[name]:.0%})")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("loss")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"budget {analysis.budget:g}: partial dependence (n={analysis.n})", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


def write_configspace(run: Run, directory: str | Path) -> Path:
    """The run's space as ConfigSpace JSON (``directory/configspace.json``), for DeepCAVE and friends."""
    path = Path(directory) / CONFIGSPACE
    with atomic_open(path) as f:
        search_space(run.mode).to_json(f)
    return path


def analyze(run: Run, out: str | Path | None = None, *, top: int = 3, seed: int = 0, plots: bool = True) -> Analysis:
    """Importances per budget, budget correlations and partial-dependence plots of ``run``.

    Args:
        run: a run read with :func:`autorl.report.load_run`.
        out: where the PNGs and ``configspace.json`` go (default: the run's directory).
        top: hyperparameters in each budget's partial-dependence plot.
        seed: seeds the forests.
        plots: write the PNGs.

    Raises:
        AutoRLError: the run has no successful evaluation, or a logged configuration names a
            hyperparameter the run's space lacks.
    """
    try:
        import optuna  # noqa: F401
        import scipy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as err:
        raise AutoRLError(
            f'{err.name} is missing: install the Auto-RL extra from the checkout with pip install -e ".[autorl]"'
        ) from None
    out = Path(out) if out is not None else run.directory
    out.mkdir(parents=True, exist_ok=True)
    dims = dimensions(run.mode)
    names = {d.name for d in dims}
    losses = budget_losses(run)
    if not losses:
        raise AutoRLError(f"{run.directory}: no successful evaluation yet, nothing to analyze")
    for config_id, config in run.configs.items():
        unknown = sorted(set(config) - names)
        if unknown:
            raise AutoRLError(
                f"{run.directory}: config {config_id} has {', '.join(unknown)}, not in the {run.mode} space"
            )
    budgets = []
    for budget, by_config in losses.items():
        ids = list(by_config)
        configs = [run.configs[i] for i in ids]
        values = [by_config[i] for i in ids]
        best = min(ids, key=lambda i: by_config[i])
        analysis = BudgetAnalysis(
            budget, len(ids), incumbent={"config_id": list(best), "loss": by_config[best], "config": run.configs[best]}
        )
        if len(ids) < MIN_IMPORTANCE:
            needs = f"importance needs {MIN_IMPORTANCE}"
            analysis.skipped = f"too few results for budget {budget:g} (n={len(ids)}; {needs})"
        elif len(set(values)) < 2:
            analysis.skipped = f"every loss on budget {budget:g} is {values[0]:.4g}: nothing to explain (n={len(ids)})"
        else:
            analysis.fanova = fanova_importance(dims, configs, values, seed)
            analysis.local = local_importance(dims, configs, values, run.configs[best], run.mode, seed)
            if plots:
                path = out / f"pdp-budget-{budget:g}.png"
                analysis.plot = _plot(dims, analysis, configs, values, run.mode, top, path, seed)
        budgets.append(analysis)
    return Analysis(run, budgets, budget_correlations(losses), write_configspace(run, out))


def _p(value: float | None) -> str:
    return "" if value is None else ("<0.001" if value < 0.001 else f"{value:.3f}")


def markdown(analysis: Analysis, rows: int = 8) -> str:
    """The analysis as Markdown: a table per budget, the correlations, the files written."""
    run = analysis.run
    failed = sum(e.loss is None for e in run.evaluations)
    lines = [
        f"# autorl analyze: {run.directory}",
        "",
        f"{run.mode} search: {len(run.configs)} configurations, {len(run.evaluations)} evaluations "
        f"({failed} failed), budgets {', '.join(f'{b.budget:g}' for b in analysis.budgets)}.",
        "",
    ]
    for b in analysis.budgets:
        lines += [f"## Budget {b.budget:g} (n = {b.n})", ""]
        if b.incumbent is not None:
            best = f"config {tuple(b.incumbent['config_id'])}, loss {b.incumbent['loss']:.4f}"
            lines += [f"Best on this budget: {best}.", ""]
        if b.skipped:
            lines += [f"{b.skipped[0].upper()}{b.skipped[1:]}: no importances computed.", ""]
            continue
        lines += ["| rank | hyperparameter | fANOVA | local (around the best) |", "|---|---|---|---|"]
        for rank, name in enumerate(b.top[:rows], start=1):
            lines.append(f"| {rank} | {name} | {b.fanova[name]:.1%} | {b.local.get(name, 0.0):.1%} |")
        rest = len(b.top) - rows
        if rest > 0:
            lines.append(f"| | ({rest} more, {sum(b.fanova[n] for n in b.top[rows:]):.1%} together) | | |")
        lines.append("")
        if b.plot is not None:
            lines += [f"![partial dependence, budget {b.budget:g}]({b.plot.name})", ""]
    lines += ["## Budget correlation", ""]
    if not analysis.correlations:
        lines += ["One budget only: no correlation to compute.", ""]
    else:
        lines += ["| budgets | n | Kendall tau (p) | Spearman rho (p) |", "|---|---|---|---|"]
        for c in analysis.correlations:
            if c.skipped:
                lines.append(f"| {c.low:g} vs {c.high:g} | {c.n} | {c.skipped} | |")
            else:
                lines.append(
                    f"| {c.low:g} vs {c.high:g} | {c.n} | {c.kendall_tau:.2f} ({_p(c.kendall_p)}) | "
                    f"{c.spearman_rho:.2f} ({_p(c.spearman_p)}) |"
                )
        lines += [
            "",
            "Configurations on both budgets are the ones successive halving promoted (the best of the lower "
            "budget), so the correlation is among good configurations.",
            "",
        ]
    if analysis.configspace is not None:
        lines.append(f"The search space in ConfigSpace JSON (for DeepCAVE): {analysis.configspace}")
    return "\n".join(lines)
