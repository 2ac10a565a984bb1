"""autorl analyze: importances find a planted parameter, budget correlation of a known relation, small logs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("hpbandster")
pytest.importorskip("ConfigSpace")
pytest.importorskip("optuna")
pytest.importorskip("sklearn")

from autorl.analyze import MIN_IMPORTANCE, analyze, budget_correlations, budget_losses, markdown  # noqa: E402
from autorl.cli import main  # noqa: E402
from autorl.report import load_run  # noqa: E402
from autorl.space import search_space  # noqa: E402
from rnadesign.files import append_json_line  # noqa: E402


def _write_log(directory, rows, mode="learna"):
    """A log in hpbandster's format: ``rows`` of (config, {budget: loss or None})."""
    directory.mkdir(parents=True, exist_ok=True)
    t = 1000.0
    for i, (config, by_budget) in enumerate(rows):
        append_json_line(directory / "configs.json", [[i, 0, 0], config, {}])
        for budget, loss in by_budget.items():
            stamps = {"submitted": t, "started": t, "finished": t + budget}
            t += budget
            result = None if loss is None else {"loss": loss, "info": {}}
            append_json_line(directory / "results.json", [[i, 0, 0], budget, stamps, result, None])
    (directory / "run.json").write_text(json.dumps({"mode": mode, "runs": []}))


def _planted(n, seed=0, monotone=lambda x: x):
    """Configurations sampled from the space; the loss depends on learning_rate alone (plus a little noise)."""
    space = search_space("learna", seed=seed)
    rng = np.random.default_rng(seed)
    rows = []
    for config in space.sample_configuration(max(n, 2))[:n]:
        config = {k: (v.item() if hasattr(v, "item") else v) for k, v in dict(config).items()}
        x = (math.log10(config["learning_rate"]) + 5) / 2  # 0 .. 1 over the range
        low = x + rng.normal(0, 0.01)
        rows.append((config, {5.0: low, 15.0: monotone(low)}))
    return rows


def test_planted_parameter_is_top_ranked_by_fanova_and_locally(tmp_path):
    _write_log(tmp_path / "run", _planted(40))
    analysis = analyze(load_run(tmp_path / "run"), plots=True)
    for b in analysis.budgets:
        assert b.skipped is None
        assert b.top[0] == "learning_rate", b.fanova
        assert b.fanova["learning_rate"] > 0.5
        assert max(b.local, key=b.local.get) == "learning_rate", b.local
        assert b.plot is not None and b.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = markdown(analysis)
    assert "| 1 | learning_rate |" in text


def test_budget_correlation_of_a_monotone_relation_is_one(tmp_path):
    _write_log(tmp_path / "run", _planted(30, seed=1, monotone=lambda x: math.exp(3 * x) - 2))
    (corr,) = budget_correlations(budget_losses(load_run(tmp_path / "run")))
    assert corr.n == 30
    assert corr.kendall_tau == pytest.approx(1.0)
    assert corr.spearman_rho == pytest.approx(1.0)
    assert corr.kendall_p < 0.001


def test_budget_correlation_of_unrelated_losses_is_near_zero(tmp_path):
    rng = np.random.default_rng(5)
    rows = [(config, {5.0: low, 15.0: float(rng.uniform())}) for config, (low, _) in
            ((c, tuple(b.values())) for c, b in _planted(60, seed=2))]  # fmt: skip
    _write_log(tmp_path / "run", rows)
    (corr,) = budget_correlations(budget_losses(load_run(tmp_path / "run")))
    assert abs(corr.kendall_tau) < 0.3 and corr.kendall_p > 0.01


def test_small_log_says_too_few_instead_of_numbers(tmp_path):
    rows = _planted(3)
    rows[2] = (rows[2][0], {5.0: None, 15.0: 0.2})  # a failed evaluation does not count
    _write_log(tmp_path / "run", rows)
    analysis = analyze(load_run(tmp_path / "run"))
    assert [b.n for b in analysis.budgets] == [2, 3]
    assert all(b.skipped and not b.fanova and b.plot is None for b in analysis.budgets)
    (corr,) = analysis.correlations
    assert corr.n == 2 and corr.kendall_tau is None
    text = markdown(analysis)
    assert f"Too few results for budget 5 (n=2; importance needs {MIN_IMPORTANCE})" in text
    assert "too few configurations on both (n=2)" in text


def test_cli_analyze_writes_markdown_pngs_and_a_configspace_deepcave_reads(tmp_path, capsys):
    from ConfigSpace import ConfigurationSpace

    _write_log(tmp_path / "run", _planted(20))
    out = tmp_path / "analysis"
    assert main(["analyze", str(tmp_path / "run"), "--out", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# autorl analyze:") and "## Budget correlation" in text
    assert sorted(p.name for p in out.glob("*.png")) == ["pdp-budget-15.png", "pdp-budget-5.png"]
    space = ConfigurationSpace.from_json(out / "configspace.json")
    assert space == search_space("learna")


def test_cli_analyze_of_an_empty_run_is_one_line(tmp_path, capsys):
    _write_log(tmp_path / "run", [(_planted(1)[0][0], {5.0: None})])
    assert main(["analyze", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no successful evaluation" in err


def _optimizer_run(directory, optimizer, seed, shift, targets=8):
    """A run whose incumbents improve over time; ``shift`` is planted in every per-target distance."""
    rng = np.random.default_rng(seed + 100 * (optimizer == "priorband"))
    rows = []
    for i, config in enumerate(_planted(6, seed=seed)):
        distances = [float(np.clip(0.5 - 0.05 * i + shift + 0.1 * t / targets + rng.normal(0, 0.02), 0, 1))
                     for t in range(targets)]  # fmt: skip
        rows.append((config[0], {5.0: (float(np.mean(distances)), distances)}))
    directory.mkdir(parents=True)
    t = 1000.0
    for i, (config, by_budget) in enumerate(rows):
        append_json_line(directory / "configs.json", [[i, 0, 0], config, {}])
        for budget, (loss, distances) in by_budget.items():
            stamps = {"submitted": t, "started": t, "finished": t + 10}
            t += 10
            info = {"distances": distances, "solved": 0, "targets": targets}
            result = {"loss": loss, "info": info}
            append_json_line(directory / "results.json", [[i, 0, 0], budget, stamps, result, None])
    entry = {"settings": {"seed": seed}, "optimizer": optimizer}
    if optimizer == "priorband":
        entry["prior"] = {"name": "learna"}
    (directory / "run.json").write_text(json.dumps({"mode": "learna", "runs": [entry]}))


def test_compare_runs_finds_a_planted_optimizer_difference(tmp_path, capsys):
    runs = []
    for optimizer, shift in (("bohb", 0.0), ("priorband", -0.1)):
        for seed in range(3):
            _optimizer_run(tmp_path / f"{optimizer}-{seed}", optimizer, seed, shift)
            runs.append(str(tmp_path / f"{optimizer}-{seed}"))
    assert main(["compare", *runs, "--plot", str(tmp_path / "compare.png"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "| priorband(learna) | 3 |" in out and "| bohb | 3 |" in out
    assert "the methods differ at 0.05" in out
    assert "| bohb - priorband(learna) | +0.1" in out
    assert (tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_runs_without_a_difference_flags_none(tmp_path, capsys):
    runs = []
    for optimizer in ("bohb", "priorband"):
        for seed in range(3):
            _optimizer_run(tmp_path / f"{optimizer}-{seed}", optimizer, seed, 0.0)
            runs.append(str(tmp_path / f"{optimizer}-{seed}"))
    assert main(["compare", *runs, "-q"]) == 0
    out = capsys.readouterr().out
    assert "do not differ detectably" in out and "| no |" in out


def test_compare_needs_two_runs(tmp_path, capsys):
    _optimizer_run(tmp_path / "a", "bohb", 0, 0.0)
    assert main(["compare", str(tmp_path / "a")]) == 2
    assert "at least two runs" in capsys.readouterr().err
