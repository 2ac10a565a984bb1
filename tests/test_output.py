"""The energy model everywhere (parameter files, temperature, dangles) and ranked, measured output.

Every design a test accepts is checked against ViennaRNA itself, run in a fresh process (so its
process-wide parameter set is its own): MFE structure and energy, the target's probability, the
ensemble defect (ViennaRNA's own ``ensemble_defect``) and whether the MFE is unique.
"""

import csv
import hashlib
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import RNA

from rnadesign.cli.output import COLUMNS, defect_colour, safe_name
from rnadesign.design import rank_designs
from rnadesign.model.folding import FoldingModel, fold
from rnadesign.model.metrics import DesignMetrics, design_metrics, gc_content, positional_defect
from rnadesign.model.structure import parse_structure

TARGET = "((((((....))))))..((((....))))"
SEQ1 = "GGGAAAUCCCGCGCUA"  # folds differently under turner1999 and turner2004 (tests/test_folding.py)
SVG = "{http://www.w3.org/2000/svg}"


def rnadesign(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "rnadesign", *args], capture_output=True, text=True, timeout=timeout)


_VIENNA = """
import json, sys, RNA
spec = json.loads(sys.argv[1])
if spec["parameters"] is not None:
    assert RNA.params_load(spec["parameters"]) == 1
md = RNA.md()
md.temperature, md.dangles, md.uniq_ML = spec["temperature"], spec["dangles"], 1
out = []
for sequence, target in spec["designs"]:
    fc = RNA.fold_compound(sequence, md)
    structure, energy = fc.mfe()
    unique = [s.structure for s in fc.subopt(0)] == [structure]
    fc.exp_params_rescale(energy)
    fc.pf()
    out.append([structure, energy, fc.pr_structure(target), fc.ensemble_defect(target), unique])
print(json.dumps(out))
"""


def vienna(designs, parameters=None, temperature=37.0, dangles=2):
    """ViennaRNA's own view of (sequence, target) pairs, computed in a process of its own."""
    spec = {"designs": designs, "parameters": parameters, "temperature": temperature, "dangles": dangles}
    proc = subprocess.run([sys.executable, "-c", _VIENNA, json.dumps(spec)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_matches_vienna(designs, target, **model):
    """Each design dict (JSON or a parsed row) agrees with ViennaRNA's own numbers, and ranks hold."""
    truth = vienna([[d["sequence"], target] for d in designs], **model)
    for d, (structure, energy, probability, defect, unique) in zip(designs, truth):
        assert structure == target == d["structure"]
        assert float(d["energy"]) == pytest.approx(energy, abs=0.01)
        assert float(d["probability"]) == pytest.approx(probability, abs=1e-5)
        assert float(d["ensemble_defect"]) == pytest.approx(defect, abs=1e-5)
        assert float(d["gc_content"]) == pytest.approx(gc_content(d["sequence"]), abs=1e-4)
        assert str(d["unique_mfe"]).lower() == str(unique).lower()
    probabilities = [p for _, _, p, _, _ in truth]
    assert probabilities == sorted(probabilities, reverse=True)


@pytest.fixture
def turner1999_file(tmp_path):
    """ViennaRNA's Turner 1999 set saved as a parameter file (loaded through rnadesign, so its
    bookkeeping of the process-wide set stays true)."""
    path = tmp_path / "t99.par"
    fold("A", FoldingModel("turner1999"))
    assert RNA.params_save(str(path)) == 1
    return path


def test_a_parameter_file_folds_as_its_set_and_is_recorded_by_path_and_digest(turner1999_file):
    model = FoldingModel(str(turner1999_file), dangles=2)
    digest = hashlib.sha256(turner1999_file.read_bytes()).hexdigest()
    assert model.to_dict() == {
        "energy_parameters": str(turner1999_file.resolve()),
        "dangles": 2,
        "temperature": 37.0,
        "parameters_sha256": digest,
    }
    assert FoldingModel(**model.to_dict()) == model
    assert FoldingModel().to_dict() == {"energy_parameters": "turner2004", "dangles": 2, "temperature": 37.0}
    named = FoldingModel("turner1999")
    assert fold(SEQ1, model) == fold(SEQ1, named) != fold(SEQ1)  # switching sets back and forth stays right
    assert design_metrics(TARGET.replace("(", "G").replace(")", "C").replace(".", "A"), TARGET, model) == (
        design_metrics(TARGET.replace("(", "G").replace(")", "C").replace(".", "A"), TARGET, named)
    )
    structure, energy, *_ = vienna([[SEQ1, "." * len(SEQ1)]], parameters=str(turner1999_file))[0]
    assert fold(SEQ1, model) == (structure, pytest.approx(energy, abs=1e-4))


def test_a_parameter_file_that_changed_is_refused(turner1999_file):
    model = FoldingModel(str(turner1999_file))
    turner1999_file.write_text(turner1999_file.read_text().replace("-240", "-250", 1))
    with pytest.raises(ValueError, match="has changed"):
        FoldingModel(**model.to_dict())


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "truncated", "directory"])
def test_a_bad_parameter_file_exits_2_with_one_line(tmp_path, turner1999_file, kind):
    path = tmp_path / f"{kind}.par"
    if kind == "empty":
        path.write_text("")
    elif kind == "text":
        path.write_text("hello\nworld\n")
    elif kind == "truncated":  # ViennaRNA itself would end the process on this one
        text = turner1999_file.read_text()
        path.write_text(text[: len(text) // 2])
    elif kind == "directory":
        path.mkdir()
    proc = rnadesign("design", "((((....))))", "-t", "5", "--energy-parameters", str(path))
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_the_model_reaches_the_json_record_and_every_design_is_checked_under_it(turner1999_file):
    args = ["--energy-parameters", str(turner1999_file), "--temperature", "50", "--dangles", "0"]
    proc = rnadesign("design", TARGET, "-t", "10", "-n", "2", "-f", "json", "-s", "1", "-q", *args)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    digest = hashlib.sha256(turner1999_file.read_bytes()).hexdigest()
    assert record["folding"] == {
        "energy_parameters": str(turner1999_file.resolve()),
        "dangles": 0,
        "temperature": 50.0,
        "parameters_sha256": digest,
    }
    designs = record["designs"]
    assert [d["rank"] for d in designs] == [1, 2] and record["solutions"] == [d["sequence"] for d in designs]
    assert record["sequence"] == designs[0]["sequence"] and record["probability"] == designs[0]["probability"]
    assert_matches_vienna(designs, TARGET, parameters=str(turner1999_file), temperature=50.0, dangles=0)


def test_a_benchmark_series_and_its_records_name_the_parameter_file(tmp_path, turner1999_file):
    targets = tmp_path / "one.txt"
    targets.write_text("((((....))))\n")
    out = tmp_path / "B"
    common = ["benchmark", str(targets), "--method", "rnainverse", "-t", "2", "--out", str(out), "-q"]
    assert rnadesign(*common, "--energy-parameters", "turner1999").returncode == 0
    proc = rnadesign(*common, "--energy-parameters", str(turner1999_file), "--temperature", "45")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len({r["series"] for r in rows}) == 2
    series = json.loads((out / "series.json").read_text())
    assert series[rows[1]["series"]]["folding"] == rows[1]["folding"]
    assert rows[1]["folding"]["parameters_sha256"] == hashlib.sha256(turner1999_file.read_bytes()).hexdigest()
    for r in rows:
        model = FoldingModel(**r["folding"])
        assert r["solved"] == (fold(r["sequence"], model)[0] == r["target"])


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv_have_one_header_and_one_row_per_design(tmp_path, fmt):
    targets = tmp_path / "two.txt"
    targets.write_text(f">first\n{TARGET}\n>second\n((((....))))..((((....))))\n")
    proc = rnadesign("design", "-i", str(targets), "-t", "10", "-n", "2", "-f", fmt, "-s", "4", "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split("," if fmt == "csv" else "\t") == list(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(proc.stdout), delimiter="," if fmt == "csv" else "\t"))
    assert [(r["name"], r["rank"]) for r in rows] == [("first", "1"), ("first", "2"), ("second", "1"), ("second", "2")]
    for name in ("first", "second"):
        mine = [r for r in rows if r["name"] == name]
        assert len({r["sequence"] for r in mine}) == 2 and all(r["solved"] == "true" for r in mine)
        assert all(r["energy_parameters"] == "turner2004" and r["parameters_sha256"] == "" for r in mine)
        assert all(RNA.fold(r["sequence"])[0] == r["target"] for r in mine)
        assert_matches_vienna(mine, mine[0]["target"])


def test_fasta_carries_the_metrics_of_each_ranked_design():
    proc = rnadesign("design", TARGET, "-t", "10", "-n", "2", "-s", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    designs = []
    for header, sequence in zip(lines[0::2], lines[1::2]):
        label, *fields = header.split()
        d = dict(field.split("=") for field in fields)
        designs.append({**d, "label": label, "sequence": sequence, "structure": RNA.fold(sequence)[0]})
    assert [d["label"] for d in designs] == [">target_1", ">target_2"]
    assert [d["rank"] for d in designs] == ["1", "2"] and all(d["solved"] == "yes" for d in designs)
    truth = vienna([[d["sequence"], TARGET] for d in designs])
    for d, (structure, energy, probability, defect, unique) in zip(designs, truth):  # FASTA rounds to 4 digits
        assert structure == TARGET and float(d["energy"]) == pytest.approx(energy, abs=0.01)
        assert d["unique_mfe"] == ("yes" if unique else "no")
        assert float(d["probability"]) == pytest.approx(probability, rel=1e-3)
        assert float(d["ensemble_defect"]) == pytest.approx(defect, rel=1e-3, abs=1e-6)


def test_ranking_is_by_probability_then_ensemble_defect_unmeasured_last():
    def m(sequence, probability, defect):
        return DesignMetrics(sequence, TARGET, -1.0, 0, True, True, 0.5, probability, defect)

    ranked = rank_designs([m("a", 0.5, 0.2), m("b", None, None), m("c", 0.9, 0.3), m("d", 0.5, 0.1), m("e", 0.5, 0.1)])
    assert [x.sequence for x in ranked] == ["c", "d", "e", "a", "b"]


def test_plot_writes_one_svg_per_design_with_one_coloured_base_each(tmp_path):
    targets = tmp_path / "named.txt"
    targets.write_text(f">my design/1\n{TARGET}\n")
    out = tmp_path / "pictures"
    proc = rnadesign(
        "design", "-i", str(targets), "-t", "10", "-n", "2", "-f", "json", "-s", "3", "-q", "--plot", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert sorted(p.name for p in out.iterdir()) == ["my_design_1_1.svg", "my_design_1_2.svg"]
    for rank, d in enumerate(record["designs"], start=1):
        root = ET.parse(out / f"my_design_1_{rank}.svg").getroot()
        assert root.tag == f"{SVG}svg"
        bases = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "base"]
        assert len(bases) == len(TARGET)
        expected = positional_defect(d["sequence"], parse_structure(TARGET))
        for circle, defect in zip(bases, expected):
            assert float(circle.get("data-defect")) == pytest.approx(defect, abs=1e-4)
            assert circle.get("fill") == defect_colour(defect)
        assert root.find(f".//{SVG}g[@id='legend']") is not None
        assert len(root.findall(f".//{SVG}g[@id='pairs']/{SVG}line")) == TARGET.count("(")


def test_colours_and_file_names():
    assert defect_colour(0.0) == "#1a9850" and defect_colour(1.0) == "#d73027" and defect_colour(0.5) == "#fee08b"
    assert defect_colour(-1) == defect_colour(0.0) and defect_colour(2) == defect_colour(1.0)
    assert safe_name("my design/1") == "my_design_1" and safe_name("../..") == "target"


def test_solutions_with_no_time_left_are_reported_from_their_verification(monkeypatch):
    """-n K must not overrun the limit by K folds: past the deadline only the first solution is folded again
    (the fold the clock reserves); the others are reported from the fold that verified them when found."""
    import itertools
    import time

    import rnadesign.model.metrics as metrics
    from rnadesign.design import DesignSettings, _result
    from rnadesign.run.state import DesignRun

    target = parse_structure("((((((....))))))")
    sequences = []
    for pairs in itertools.product(("GC", "CG"), repeat=6):  # six pairs, each GC or CG, around a GAAA loop
        sequence = "".join(p[0] for p in pairs) + "GAAA" + "".join(p[1] for p in reversed(pairs))
        if RNA.fold(sequence)[0] == target.dot_bracket:
            sequences.append(sequence)
        if len(sequences) == 6:
            break
    run = DesignRun(target, DesignSettings(mode="search", time_limit=60, num_solutions=6), seed=0)
    for sequence in sequences:
        run.record(sequence, 0)
    assert run.solutions == sequences and set(run.checks) == set(sequences)
    run.clock.at = time.perf_counter() - 1  # the limit has passed
    folds = []
    real_fold = metrics.fold
    monkeypatch.setattr(metrics, "fold", lambda *a, **k: folds.append(a[0]) or real_fold(*a, **k))
    result = _result(run)
    assert len(folds) == 1  # the reserved refold of the first, no more
    assert sorted(result.solutions) == sorted(sequences) and result.solved
    for m in result.metrics:
        assert RNA.fold(m.sequence)[0] == m.structure == target.dot_bracket and m.solved
        assert m.probability is None and m.gc_content == gc_content(m.sequence)
