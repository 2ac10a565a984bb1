"""PriorBand beside BOHB: priors, the NePS space from the one definition, and a tiny run whose export designs.

The run needs NePS (the ``priorband`` extra, not in ``test``: alone, pip would replace torch); it is
skipped cleanly without it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("hpbandster")
pytest.importorskip("ConfigSpace")

from autorl.cli import main  # noqa: E402
from autorl.errors import AutoRLError  # noqa: E402
from autorl.priorband import bohb_fidelity, load_prior  # noqa: E402
from autorl.report import load_run  # noqa: E402
from autorl.space import dimensions, search_space, to_agent_config  # noqa: E402
from rnadesign.config import load_agent_config  # noqa: E402
from rnadesign.model.folding import fold  # noqa: E402


def test_bohb_fidelity_follows_hpbandsters_brackets():
    # budgets 5, 15, 45 (eta 3): bracket 0 runs 9 @ 5, 3 @ 15, 1 @ 45; bracket 1: 3 @ 15 (n0 = 1 * 3), 1 @ 45
    assert bohb_fidelity(5, 45, 3, 1) == 9 * 5 + 3 * 15 + 45
    assert bohb_fidelity(5, 45, 3, 2) == 135 + 3 * 15 + 45
    assert bohb_fidelity(5, 45, 3, 3) == 135 + 90 + 3 * 45


def test_the_papers_prior_is_a_configuration_of_the_space():
    from ConfigSpace import Configuration

    prior = load_prior("learna", "learna")
    Configuration(search_space("learna"), values=prior["config"])  # raises if outside or inactive
    assert to_agent_config(prior["config"]).network == load_agent_config("learna").network
    assert prior["confidence"]["learning_rate"] == "medium" and prior["confidence"]["clip_range"] == "low"
    meta = load_prior("meta-learna", "meta")
    assert to_agent_config(meta["config"]).env.state_radius == 29
    assert set(load_prior("default", "hybrid")["config"]) == {d.name for d in dimensions("hybrid")}


def test_a_prior_file_and_its_errors(tmp_path):
    good = tmp_path / "prior.json"
    good.write_text(json.dumps({"config": {"learning_rate": 1e-4}, "confidence": {"learning_rate": "high"}}))
    prior = load_prior(str(good), "learna")
    assert prior["config"] == {"learning_rate": 1e-4} and prior["confidence"]["learning_rate"] == "high"
    for document, message in (
        ({"config": {"learning_rate": 1.0}}, "outside the learna space"),
        ({"config": {"nope": 1}}, "nope not in the learna space"),
        ({"config": {}, "confidence": {"learning_rate": "certain"}}, "confidence learning_rate='certain'"),
    ):
        good.write_text(json.dumps(document))
        with pytest.raises(AutoRLError, match=message):
            load_prior(str(good), "learna")
    with pytest.raises(AutoRLError, match="unknown prior 'paper'"):
        load_prior("paper", "learna")


def test_neps_space_comes_from_the_same_dimensions():
    pytest.importorskip("neps")
    from autorl.priorband import neps_space

    prior = load_prior("learna", "learna")
    space = neps_space("learna", prior, 5, 45)
    names = {name for name in vars(type(space)) if not name.startswith("_")}
    assert names >= {d.name for d in dimensions("learna")} | {"budget"}


def test_priorband_run_writes_a_log_whose_export_designs(tmp_path, capsys):
    pytest.importorskip("neps")
    targets = tmp_path / "targets.txt"
    targets.write_text("((((....))))\n((((((....))))))\n")
    out = tmp_path / "run"
    args = ["optimize", "--optimizer", "priorband", "--prior", "learna", "--targets", str(targets),
            "--min-budget", "0.5", "--max-budget", "1.5", "--n-iterations", "1", "--out", str(out), "-q"]  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()
    run = load_run(out)
    assert run.evaluations and {e.budget for e in run.evaluations} <= {0.5, 1.5}
    first = min(run.evaluations, key=lambda e: e.started)
    assert to_agent_config(run.configs[first.config_id]) == to_agent_config(load_prior("learna", "learna")["config"])
    for e in run.evaluations:  # a design the log counts as solved folds into its target
        for sequence, target, distance in zip(e.info["sequences"], ["((((....))))", "((((((....))))))"],
                                              e.info["distances"]):  # fmt: skip
            assert (fold(sequence)[0] == target) == (distance == 0)
    assert main(["report", str(out), "-q"]) == 0
    assert main(["analyze", str(out), "-q"]) == 0
    assert "too few results" in capsys.readouterr().out.lower()
    preset = tmp_path / "preset.json"
    assert main(["best", str(out), "--export", str(preset), "-q"]) == 0
    target = "((((((....))))))"
    design = subprocess.run(
        [sys.executable, "-m", "rnadesign", "design", target, "--config", str(preset), "--time-limit", "30",
         "--format", "json", "--seed", "2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert design.returncode == 0, design.stderr
    assert fold(json.loads(design.stdout)["sequence"])[0] == target


def test_priorband_without_neps_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "neps", None)  # as if the extra were not installed
    targets = tmp_path / "targets.txt"
    targets.write_text("((((....))))\n")
    args = ["optimize", "--optimizer", "priorband", "--targets", str(targets), "--min-budget", "1",
            "--max-budget", "3", "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(args) == 2
    assert "PriorBand needs NePS" in capsys.readouterr().err
