"""The mixed-model comparison: finds a planted method effect, flags none where there is none, says when it cannot."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("statsmodels")

from rnadesign.benchmark.stats import benchmark_rows, compare_stats, format_test, mixed_model_test  # noqa: E402
from rnadesign.cli.main import main  # noqa: E402


def _solved(effects, *, targets=30, runs=5, seed=0):
    """Binary outcomes: a per-target base rate (the random effect) plus each method's planted effect."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(targets):
        base = rng.uniform(0.1, 0.7)
        for method, effect in effects.items():
            for run in range(runs):
                rows.append({"method": method, "target": f"t{t}", "run": run, "y": float(rng.random() < base + effect)})
    return rows


def test_planted_method_effect_is_detected_and_only_its_pairs_flagged():
    test = mixed_model_test(_solved({"a": 0.0, "b": 0.0, "c": 0.25}))
    assert test.problem is None
    assert test.p < 0.001 and test.significant
    flagged = {(p.a, p.b) for p in test.pairs if p.significant}
    assert flagged == {("a", "c"), ("b", "c")}
    c_minus_a = next(p for p in test.pairs if (p.a, p.b) == ("a", "c"))
    assert c_minus_a.difference == pytest.approx(-0.25, abs=0.07)
    assert all(p.p_holm >= p.p for p in test.pairs)
    assert "the methods differ at 0.05" in format_test(test)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_effect_is_not_flagged(seed):
    test = mixed_model_test(_solved({"a": 0.0, "b": 0.0}, seed=seed))
    assert test.problem is None
    assert test.p > 0.05 and not test.significant
    assert not any(p.significant for p in test.pairs)
    assert "do not differ detectably" in format_test(test)


def test_crossed_target_and_run_effects_on_a_continuous_outcome():
    """An optimizer comparison: each run's incumbent has a loss on every target; runs and targets both vary."""
    rng = np.random.default_rng(4)
    target_effect = rng.normal(0, 0.2, 12)
    rows = []
    for method, shift in (("bohb", 0.0), ("priorband", -0.15)):
        for seed in range(3):
            run_effect = rng.normal(0, 0.05)
            for t, te in enumerate(target_effect):
                y = 0.5 + shift + te + run_effect + rng.normal(0, 0.05)
                rows.append({"method": method, "target": t, "run": f"{method}/{seed}", "y": y})
    test = mixed_model_test(rows, random=("target", "run"))
    assert test.problem is None and test.random == ("target", "run")
    assert test.significant
    (pair,) = test.pairs
    assert pair.difference == pytest.approx(0.15, abs=0.1) and pair.significant


def test_degenerate_outcomes_are_a_message_not_a_traceback():
    all_solved = [{**r, "y": 1.0} for r in _solved({"a": 0.0, "b": 0.0}, targets=5, runs=2)]
    test = mixed_model_test(all_solved)
    assert test.p is None and "every outcome is 1" in test.problem
    assert "No test: every outcome is 1" in format_test(test)
    one_method = mixed_model_test(_solved({"a": 0.0}, targets=5))
    assert "one method only" in one_method.problem
    one_target = mixed_model_test(_solved({"a": 0.0, "b": 0.3}, targets=1, runs=4))
    assert "one target only" in one_target.problem


def _benchmark(folder, method, outcomes, series="s1", constraints=None, settings=None):
    folder.mkdir(parents=True)
    if settings is not None:  # what the runner records of the series in series.json
        (folder / "series.json").write_text(json.dumps({series: {"method": method, **settings}}))
    with open(folder / "results.jsonl", "w", encoding="utf-8") as f:
        for (target, run), solved in outcomes.items():
            record = {"dataset": "toy", "target_id": target, "target": "((...))", "run": run, "method": method,
                      "seed": run, "time_limit": 10.0, "series": series, "solved": solved, "time_s": 1.0,
                      "status": "solved" if solved else "timeout", "distance": 0 if solved else 2,
                      "constraints": constraints}  # fmt: skip
            f.write(json.dumps(record) + "\n")


def test_series_of_one_method_under_different_constraints_are_labelled_by_them(tmp_path):
    outcomes = {(f"t{i}", 0): i % 2 == 0 for i in range(6)}
    gc = {"sequence": None, "gc_content": 0.5, "gc_tolerance": 0.1, "avoid": [], "allow_gu": True}
    _benchmark(tmp_path / "free", "search", outcomes, series="a")
    _benchmark(tmp_path / "gc", "search", outcomes, series="b", constraints=gc)
    rows, _ = benchmark_rows([tmp_path / "free", tmp_path / "gc"])
    assert {r["method"] for r in rows} == {"search [unconstrained]", "search [gc=0.50+-0.10]"}


def test_benchmark_compare_stats_reads_result_folders(tmp_path, capsys):
    rows = _solved({"hybrid": 0.3, "learna": 0.0}, targets=20, runs=3, seed=7)
    for method in ("hybrid", "learna"):
        _benchmark(tmp_path / method, method, {(r["target"], r["run"]): bool(r["y"]) for r in rows
                                               if r["method"] == method})  # fmt: skip
    # a target only one designer ran is left out, and said so
    with open(tmp_path / "learna" / "results.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"dataset": "toy", "target_id": "extra", "target": "()", "run": 0, "method": "learna",
                            "time_limit": 10.0, "series": "s1", "solved": True, "time_s": 1.0,
                            "status": "solved"}) + "\n")  # fmt: skip
    got, notes = benchmark_rows([tmp_path / "hybrid", tmp_path / "learna"])
    assert len(got) == 120 and notes == ["1 target(s) not run by every method are left out"]
    text = compare_stats([tmp_path / "hybrid", tmp_path / "learna"])
    assert "| hybrid | 60 |" in text and "Likelihood-ratio test" in text
    assert main(["benchmark", "compare", "--stats", str(tmp_path / "hybrid"), str(tmp_path / "learna"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "| hybrid - learna |" in out and "significant at 0.05" in out


def test_benchmark_compare_stats_of_an_empty_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    _benchmark(tmp_path / "b", "learna", {("t0", 0): True})
    assert main(["benchmark", "compare", "--stats", str(tmp_path / "empty"), str(tmp_path / "b")]) == 2
    assert "no results.jsonl" in capsys.readouterr().err


def test_pooled_runs_of_one_method_and_outcomes_within_a_time(tmp_path, capsys):
    """Runs of one designer on several days pool into one method; --at counts only solves by then."""
    outcomes = {(f"t{i}", 0): i % 3 != 0 for i in range(9)}
    _benchmark(tmp_path / "day1", "hybrid", outcomes, series="a")
    _benchmark(tmp_path / "day2", "hybrid", outcomes, series="a")
    _benchmark(tmp_path / "base", "search", {key: False for key in outcomes})
    folders = [tmp_path / "day1", tmp_path / "day2", tmp_path / "base"]
    apart, _ = benchmark_rows(folders)
    assert {r["method"] for r in apart} == {"hybrid [a, day1]", "hybrid [a, day2]", "search"}
    pooled, _ = benchmark_rows(folders, pool=True)
    assert {r["method"] for r in pooled} == {"hybrid", "search"}
    assert sum(r["y"] for r in pooled if r["method"] == "hybrid") == 12  # 6 of 9 on each day
    early, _ = benchmark_rows(folders, pool=True, at=0.5)  # every attempt took 1 s
    assert sum(r["y"] for r in early) == 0
    assert "| hybrid | 18 | 12 |" in compare_stats(folders, pool=True)
    argv = ["benchmark", "compare", "--stats", "--pool", "--at", "20", *map(str, folders), "-q"]
    assert main(argv) == 2 and "past a series' time limit (10 s)" in capsys.readouterr().err
    assert main(["benchmark", "compare", "--pool", *map(str, folders)]) == 2
    assert "add --stats" in capsys.readouterr().err


def test_pooled_series_that_differ_in_a_setting_are_kept_apart_and_labelled_by_it(tmp_path):
    """Runs with and without a search setting (recorded in series.json, not in the records) are two
    designers, pooled or not; runs that differ only in their seed pool into one."""
    outcomes = {(f"t{i}", 0): i % 3 != 0 for i in range(9)}
    on = {"seed": 0, "time_limit": 10.0, "search": {"hierarchy": 150, "population": 8}}
    _benchmark(tmp_path / "on1", "hybrid", outcomes, series="a", settings=on)
    _benchmark(tmp_path / "on2", "hybrid", outcomes, series="b", settings={**on, "seed": 100})
    off = {**on, "search": {"hierarchy": 0, "population": 8}}
    _benchmark(tmp_path / "off1", "hybrid", {key: False for key in outcomes}, series="c", settings=off)
    folders = [tmp_path / "on1", tmp_path / "on2", tmp_path / "off1"]
    pooled, _ = benchmark_rows(folders, pool=True)
    solved = {}
    for r in pooled:
        solved[r["method"]] = solved.get(r["method"], 0) + r["y"]
    assert solved == {"hybrid [search.hierarchy=150]": 12, "hybrid [search.hierarchy=0]": 0}
    apart, _ = benchmark_rows(folders)  # the two seeds' runs are told apart by series id
    assert {r["method"] for r in apart} == {"hybrid [a]", "hybrid [b]", "hybrid [c]"}
    two, _ = benchmark_rows([tmp_path / "on1", tmp_path / "off1"])
    assert {r["method"] for r in two} == {"hybrid [search.hierarchy=150]", "hybrid [search.hierarchy=0]"}
    # a folder without series.json (older results): only constraints tell designers apart
    (tmp_path / "off1" / "series.json").unlink()
    old, notes = benchmark_rows(folders, pool=True)
    assert {r["method"] for r in old} == {"hybrid"}
    assert notes == ["no settings recorded for the series in off1 (no series.json): only method and constraints "
                     "tell them from the others"]  # fmt: skip


def test_a_setting_older_series_do_not_record_counts_as_its_default(tmp_path):
    """A series.json written before a setting existed ran with its default: it pools with a newer series
    at the default, not with one at another value (and a setting of no known default is "?")."""
    outcomes = {(f"t{i}", 0): i % 3 != 0 for i in range(9)}
    old = {"seed": 0, "time_limit": 10.0, "search": {"population": 10}}
    _benchmark(tmp_path / "old", "hybrid", outcomes, series="a", settings=old)
    at_default = {**old, "seed": 1, "search": {"population": 10, "bonus_hairpins": 0.0}}
    _benchmark(tmp_path / "new", "hybrid", outcomes, series="b", settings=at_default)
    bonus = {**old, "seed": 2, "search": {"population": 10, "bonus_hairpins": 0.1}}
    _benchmark(tmp_path / "bonus", "hybrid", outcomes, series="c", settings=bonus)
    pooled, _ = benchmark_rows([tmp_path / "old", tmp_path / "new"], pool=True)
    assert {r["method"] for r in pooled} == {"hybrid"}
    apart, _ = benchmark_rows([tmp_path / "old", tmp_path / "new", tmp_path / "bonus"], pool=True)
    assert {r["method"] for r in apart} == {"hybrid [search.bonus_hairpins=0.0]", "hybrid [search.bonus_hairpins=0.1]"}
    assert sum(r["method"].endswith("=0.0]") for r in apart) == 18  # old and new pooled
    unknown = {**old, "seed": 3, "novel_setting": 5}
    _benchmark(tmp_path / "novel", "hybrid", outcomes, series="d", settings=unknown)
    both, _ = benchmark_rows([tmp_path / "old", tmp_path / "novel"], pool=True)
    assert {r["method"] for r in both} == {"hybrid [novel_setting=?]", "hybrid [novel_setting=5]"}


def test_a_setting_whose_default_changed_counts_as_what_older_series_ran(tmp_path):
    """Series recorded before ``repair_loops`` existed ran without bonus loops in the repair: they pool with
    a new series that turns it off, not with one at today's default (on)."""
    outcomes = {(f"t{i}", 0): i % 3 != 0 for i in range(9)}
    old = {"seed": 0, "time_limit": 10.0, "search": {"population": 10}}
    _benchmark(tmp_path / "old", "hybrid", outcomes, series="a", settings=old)
    off = {**old, "seed": 1, "search": {"population": 10, "repair_loops": False}}
    _benchmark(tmp_path / "off", "hybrid", outcomes, series="b", settings=off)
    on = {**old, "seed": 2, "search": {"population": 10, "repair_loops": True}}
    _benchmark(tmp_path / "on", "hybrid", outcomes, series="c", settings=on)
    rows, _ = benchmark_rows([tmp_path / "old", tmp_path / "off", tmp_path / "on"], pool=True)
    labels = [r["method"] for r in rows]
    assert (
        labels.count("hybrid [search.repair_loops=false]") == 18
        and labels.count("hybrid [search.repair_loops=true]") == 9
    )
