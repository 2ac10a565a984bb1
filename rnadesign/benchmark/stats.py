"""Is a difference between methods real, or noise across targets and seeds? A linear mixed-effects test.

One model for every comparison the project makes (designers on a benchmark's targets, optimizers
across seeds): the outcome ``y`` of one attempt is

    y = method effect + target effect (+ run effect) + noise

with the method a fixed effect and the target (and, where one run yields an outcome on every
target, as an optimizer's incumbent does, the run) random effects, crossed (statsmodels
``MixedLM``, variance components over one group; Geburek et al. 2024 argue for this over
counting wins). Repeated attempts of a designer on a target (a benchmark's runs) are independent
draws: they are the residual, not a random effect.

Whether the methods differ at all is a likelihood-ratio test of that model against the same
model without the method, both fitted by maximum likelihood (``reml=False``: REML likelihoods of
models with different fixed effects are not comparable). Which pairs differ are Wald tests of the
pairwise differences of the method effects, Holm-corrected.

A binary outcome (solved or not) is fitted as a linear probability model: the effects are then
differences in the probability of solving. That is the linear mixed-effects model the issue asks
for, not a logistic one; with outcomes near 0 or 1 its p-values are approximate.

Degenerate data (every outcome the same, one method, one observation per group) cannot be fitted:
:func:`mixed_model_test` says so in :attr:`MixedModelTest.problem` rather than raising.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RnaDesignError

__all__ = ["ALPHA", "MixedModelTest", "Pair", "benchmark_rows", "compare_stats", "format_test", "mixed_model_test"]

ALPHA = 0.05


@dataclass(frozen=True)
class Pair:
    """One pairwise contrast: ``a`` minus ``b`` in the outcome's units."""

    a: str
    b: str
    difference: float
    se: float
    p: float
    p_holm: float

    @property
    def significant(self) -> bool:
        return self.p_holm < ALPHA


@dataclass
class MixedModelTest:
    """The test's result; ``problem`` set (and the numbers None) when the data cannot be fitted."""

    methods: list[str]
    n: int
    groups: int
    """Levels of the first random effect (targets)."""
    random: tuple[str, ...] = ("target",)
    """The random effects fitted."""
    means: dict[str, float] = field(default_factory=dict)
    effects: dict[str, float] = field(default_factory=dict)
    """The fitted method effects (the first method's is the intercept)."""
    lr: float | None = None
    df: int | None = None
    p: float | None = None
    pairs: list[Pair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def significant(self) -> bool | None:
        return None if self.p is None else self.p < ALPHA


def _require_statsmodels():
    try:
        import pandas  # noqa: F401
        import statsmodels  # noqa: F401
    except ImportError as err:
        raise RnaDesignError(
            f"{err.name} is missing: the mixed-model test needs statsmodels "
            '(from the checkout: pip install -e ".[stats]")'
        ) from None


def mixed_model_test(
    rows: Sequence[dict[str, Any]], *, y: str = "y", method: str = "method", random: Sequence[str] = ("target",)
) -> MixedModelTest:
    """Fit ``y ~ method`` with the ``random`` columns as random intercepts (crossed, when there are two).

    Args:
        rows: one dict per observation, holding ``y`` (a number), ``method`` and each ``random`` column.
        random: one column (a random intercept per level, e.g. the target) or two (crossed, e.g.
            target and run).
    """
    random = tuple(random)
    if len(random) not in (1, 2):
        raise ValueError(f"one or two random effects, got {random}")
    _require_statsmodels()
    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    frame = pd.DataFrame(
        {"y": [float(r[y]) for r in rows], "method": [str(r[method]) for r in rows],
         **{f"r{i}": [str(r[name]) for r in rows] for i, name in enumerate(random)}}
    )  # fmt: skip
    methods = sorted(frame["method"].unique())
    test = MixedModelTest(methods, len(frame), int(frame["r0"].nunique()) if len(frame) else 0, random)
    test.means = {m: float(frame.loc[frame["method"] == m, "y"].mean()) for m in methods}
    if len(methods) < 2:
        test.problem = f"one method only ({', '.join(methods) or 'none'}): nothing to compare"
        return test
    if frame["y"].nunique() < 2:
        value = frame["y"].iloc[0]
        test.problem = f"every outcome is {value:g}: the methods cannot differ (singular fit), nothing to test"
        return test
    for i, name in enumerate(random):
        if frame[f"r{i}"].nunique() < 2:
            test.problem = f"one {name} only: a random {name} effect cannot be estimated"
            return test
    formula = f"y ~ C(method, Treatment(reference={methods[0]!r}))"
    if len(random) == 1:
        groups, vc = frame["r0"], None
    else:  # crossed random effects: variance components within one group holding everything
        groups, vc = np.zeros(len(frame)), {"r0": "0 + C(r0)", "r1": "0 + C(r1)"}

    def fit(form: str):
        """The best finite maximum-likelihood fit over three optimizers: on 0/1 outcomes statsmodels'
        default (lbfgs) can end on a degenerate point with an infinite likelihood."""
        model = smf.mixedlm(form, frame, groups=groups, vc_formula=vc)
        fits, messages = [], []
        for optimizer in ("lbfgs", "powell", "nm"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = model.fit(reml=False, method=optimizer)
                except (np.linalg.LinAlgError, ValueError) as err:
                    messages.append(str(err))
                    continue
            if math.isfinite(result.llf) and np.all(np.isfinite(result.fe_params)):
                fits.append((result.llf, result, [str(w.message).split("\n")[0] for w in caught]))
        if not fits:
            raise ValueError(messages[-1] if messages else "no optimizer reached a finite likelihood")
        llf, result, caught = max(fits, key=lambda f: f[0])
        for message in caught:
            if "boundary" in message.lower():  # a variance estimated as 0: worth saying, not wrong
                note = "A random-effect variance was estimated at 0 (the fit is on the boundary)."
                if note not in test.notes:
                    test.notes.append(note)
        return result

    try:
        full = fit(formula)
        null = fit("y ~ 1")
    except ValueError as err:
        test.problem = f"the mixed model cannot be fitted to these outcomes ({err})"
        return test
    test.lr = max(2.0 * (full.llf - null.llf), 0.0)
    test.df = len(methods) - 1
    test.p = float(stats.chi2.sf(test.lr, test.df))
    fe = full.fe_params
    names = list(fe.index)
    cov = full.cov_params().loc[names, names].to_numpy()
    index: dict[str, int | None] = {methods[0]: None}
    for m in methods[1:]:
        index[m] = names.index(next(n for n in names if n.endswith(f"[T.{m}]")))
    test.effects = {m: float(fe.iloc[0] + (fe.iloc[index[m]] if index[m] is not None else 0.0)) for m in methods}
    raw = []
    for a, b in itertools.combinations(methods, 2):
        contrast = np.zeros(len(names))
        if index[a] is not None:
            contrast[index[a]] += 1.0
        if index[b] is not None:
            contrast[index[b]] -= 1.0
        diff = float(contrast @ fe.to_numpy())
        se = float(math.sqrt(max(contrast @ cov @ contrast, 0.0)))
        p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
        raw.append((a, b, diff, se, p))
    holm = multipletests([r[4] for r in raw], alpha=ALPHA, method="holm")[1]
    test.pairs = [Pair(a, b, diff, se, p, float(h)) for (a, b, diff, se, p), h in zip(raw, holm)]
    return test


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def format_test(test: MixedModelTest, *, outcome: str = "outcome") -> str:
    """The test as Markdown: the likelihood-ratio test, then the Holm-corrected pairs."""
    lines = [
        f"Linear mixed-effects model: {outcome} ~ method, random effects: {' and '.join(test.random)} "
        f"({test.n} observations, {test.groups} {test.random[0]}s).",
    ]
    if test.problem:
        return "\n".join([*lines, "", f"No test: {test.problem}."])
    verdict = "differ" if test.significant else "do not differ detectably"
    lines += [
        "",
        f"Likelihood-ratio test against the model without method: chi2 = {test.lr:.2f}, df = {test.df}, "
        f"p = {_p(test.p)}: the methods {verdict} at {ALPHA:g}.",
        "",
        "| pair | difference | SE | p | p (Holm) | significant at 0.05 |",
        "|---|---|---|---|---|---|",
    ]
    for pair in test.pairs:
        lines.append(
            f"| {pair.a} - {pair.b} | {pair.difference:+.4f} | {pair.se:.4f} | {_p(pair.p)} | {_p(pair.p_holm)} | "
            f"{'yes' if pair.significant else 'no'} |"
        )
    lines += [f"\n{note}" for note in test.notes]
    return "\n".join(lines)


def _constraints_tag(records: list[dict[str, Any]]) -> str:
    """The design constraints of a series' attempts in one line (``unconstrained`` without any)."""
    from ..model.constraints import DesignConstraints

    found = DesignConstraints.from_dict(records[0].get("constraints"))
    return "unconstrained" if found is None or not found.active else found.describe()


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dict as ``{"search.hierarchy": 150, ...}``."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for name, item in value.items():
        out.update(_flat(item, f"{prefix}.{name}" if prefix else name))
    return out


# What tells one designer from another: every setting of a series but these (runs of one designer on
# several days differ in seed; a differing time limit is a note of its own).
_NOT_THE_DESIGNER = ("method", "seed", "time_limit", "constraints")


def _designers(series: dict[tuple[str, str, str], list[dict[str, Any]]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Each series' settings as one flat dict: its constraints (as a tag) and, where the folder's
    ``series.json`` records it, every setting of the series bar :data:`_NOT_THE_DESIGNER`."""
    from .runner import SERIES

    recorded: dict[str, dict[str, Any]] = {}
    designers = {}
    for key, records in series.items():
        folder, _, sid = key
        if folder not in recorded:
            path = Path(folder) / SERIES
            try:
                known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            except (json.JSONDecodeError, UnicodeDecodeError):
                known = {}
            recorded[folder] = known if isinstance(known, dict) else {}
        settings = recorded[folder].get(sid)
        flat = {"constraints": _constraints_tag(records)}
        if isinstance(settings, dict):
            flat.update(_flat({k: v for k, v in settings.items() if k not in _NOT_THE_DESIGNER}))
        else:
            flat["unrecorded"] = True
        designers[key] = flat
    return designers


_UNKNOWN = "?"  # a setting a series.json does not record and whose default is not known here


#: Settings whose default today is not what the code ran before the setting existed: a series.json
#: written then ran with these (no bonus loops or interior-loop units in the repair; no adaptation and no
#: push away from stale lineages, whose defaults are now the mode's).
_BEFORE_THE_SETTING = {
    "search.repair_loops": False,
    "search.repair_interiors": False,
    "search.adapt_rate": 0.0,
    "search.adapt_avoid": 0.0,
}


def _defaults() -> dict[str, Any]:
    """The settings whose defaults the code knows, flat as in :func:`_designers`: what a series.json
    written before a setting existed ran with (the search's and the folding model's fields)."""
    import dataclasses

    from ..config import SearchConfig
    from ..model.folding import FoldingModel

    defaults = _flat({"search": dataclasses.asdict(SearchConfig()), "folding": FoldingModel().to_dict()})
    return defaults | _BEFORE_THE_SETTING


def _show(name: str, value: Any) -> str:
    if name == "constraints":
        return str(value)
    text = value if isinstance(value, str) else json.dumps(value)
    return f"{name}={text[:12] if name.endswith('sha256') else text}"


def _differences(flats: list[dict[str, Any]]) -> list[str]:
    """For each flat dict, its settings that not all of ``flats`` share. A setting that some series.json
    records and another does not (written before the setting existed) counts as its default there
    (``?`` where no default is known); when a series has no series.json at all, only the names every
    one records are compared."""
    if any("unrecorded" in f for f in flats):
        names = set.intersection(*(set(f) for f in flats)) - {"unrecorded"}
    else:
        names = set().union(*(set(f) for f in flats))
    defaults = _defaults() if any(names - set(f) for f in flats) else {}
    full = [{n: f[n] if n in f else defaults.get(n, _UNKNOWN) for n in names} for f in flats]
    differ = sorted(n for n in names if len({json.dumps(f[n], sort_keys=True) for f in full}) > 1)
    return [", ".join(_show(n, f[n]) for n in differ) for f in full]


def benchmark_rows(
    folders: Sequence[str | Path], *, pool: bool = False, at: float | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per attempt of every series in the benchmark result ``folders``, on the targets all of them ran.

    A series is labelled by its method; two series of one method are told apart by the settings in
    which they differ (their design constraints, and what each folder's ``series.json`` records: e.g.
    ``hybrid [search.hierarchy=0]``), else (unless ``pool``) by series id, and by folder if that is
    not enough. With ``pool`` the series of one method that differ in nothing but their seed are runs
    of one designer (e.g. one run a day on several days); without a ``series.json`` only the
    constraints tell designers apart. Returns the rows (``method``, ``target``, ``run``, ``y`` =
    solved as 0/1, within ``at`` seconds of the attempt's start if given, else within its limit;
    ``time_s``) and notes on what was left out.

    Raises:
        RnaDesignError: a folder without results, results of more than one dataset, or ``at`` past the
            time limit of a series (its attempts stopped before then).
    """
    from .spec import read_results

    series: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for folder in folders:
        records = read_results(Path(folder))
        if not records:
            raise RnaDesignError(f"{folder}: no results.jsonl (run 'rnadesign benchmark' into it first)")
        for r in records:
            series.setdefault((str(folder), r["method"], str(r.get("series", "unkeyed"))), []).append(r)
    datasets = sorted({r["dataset"] for records in series.values() for r in records})
    if len(datasets) > 1:
        raise RnaDesignError(f"results of several datasets ({', '.join(datasets)}): compare one dataset at a time")
    labels = {}
    designers = _designers(series)
    for method in sorted({k[1] for k in series}):
        same_method = [k for k in series if k[1] == method]
        described = dict(zip(same_method, _differences([designers[k] for k in same_method]), strict=True))
        kinds = set(described.values())
        for key in same_method:
            folder, _, sid = key
            if len(same_method) == 1 or (pool and len(kinds) == 1):
                labels[key] = method
            elif pool or len(kinds) == len(same_method):  # e.g. with and without a GC window
                labels[key] = f"{method} [{described[key]}]"
            elif len({k[2] for k in same_method}) == len(same_method):
                labels[key] = f"{method} [{sid}]"
            else:
                labels[key] = f"{method} [{sid}, {Path(folder).name}]"
    common = set.intersection(*({r["target_id"] for r in records} for records in series.values()))
    notes = []
    shared = [k for k in series if sum(other[1] == k[1] for other in series) > 1]  # methods run more than once
    unrecorded = sorted({Path(k[0]).name for k in shared if "unrecorded" in designers[k]})
    if unrecorded:
        notes.append(
            f"no settings recorded for the series in {', '.join(unrecorded)} (no series.json): "
            "only method and constraints tell them from the others"
        )
    every = set().union(*({r["target_id"] for r in records} for records in series.values()))
    if every - common:
        notes.append(f"{len(every - common)} target(s) not run by every method are left out")
    rows = [
        {"method": labels[key], "target": r["target_id"], "run": int(r["run"]),
         "y": 1.0 if r["solved"] and (at is None or float(r["time_s"]) <= at) else 0.0,
         "time_s": float(r["time_s"]), "time_limit": float(r["time_limit"])}
        for key, records in series.items()
        for r in records
        if r["target_id"] in common
    ]  # fmt: skip
    limits = sorted({r["time_limit"] for r in rows})
    if at is not None and limits and at > limits[0]:
        raise RnaDesignError(
            f"--at {at:g} s is past a series' time limit ({limits[0]:g} s): its attempts stopped before"
        )
    if len(limits) > 1:
        notes.append(f"the series have different time limits ({', '.join(f'{t:g}' for t in limits)} s)")
    return rows, notes


def compare_stats(folders: Sequence[str | Path], *, pool: bool = False, at: float | None = None) -> str:
    """``rnadesign benchmark compare --stats``: solved counts per designer beside the mixed-model test (Markdown);
    ``pool`` and ``at`` as :func:`benchmark_rows` takes them."""
    _require_statsmodels()
    rows, notes = benchmark_rows(folders, pool=pool, at=at)
    methods = sorted({r["method"] for r in rows})
    targets = sorted({r["target"] for r in rows})
    lines = [
        f"Solved outcomes{'' if at is None else f' within {at:g} s'} on {len(targets)} common targets",
        "",
        "| method | attempts | solved | rate | targets solved (any run) |",
        "|---|---|---|---|---|",
    ]
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        solved = sum(r["y"] for r in mine)
        any_run = len({r["target"] for r in mine if r["y"]})
        lines.append(f"| {m} | {len(mine)} | {solved:.0f} | {solved / len(mine):.1%} | {any_run}/{len(targets)} |")
    lines += ["", *(f"Note: {n}." for n in notes), "" if notes else ""]
    test = mixed_model_test(rows)
    solved = "solved" if at is None else f"solved within {at:g} s"
    lines.append(format_test(test, outcome=f"{solved} (0/1, a linear probability model)"))
    return "\n".join(line for line in lines if line is not None).replace("\n\n\n", "\n\n")
