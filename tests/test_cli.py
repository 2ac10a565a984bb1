"""The command line as a user runs it: a subprocess, stdout for results, stderr for the rest."""

import json
import subprocess
import sys

import pytest

from rnadesign.model.folding import fold


def run(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "rnadesign", *args], capture_output=True, text=True, timeout=timeout)


def test_design_json_is_refolded_by_the_test():
    target = "((((((....))))))"
    proc = run("design", target, "--time-limit", "30", "--format", "json", "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    for key in ("name", "target", "sequence", "structure", "distance", "solved", "time_s", "seed"):
        assert key in record
    assert record["solved"] and record["seed"] == 5 and record["target"] == target
    assert fold(record["sequence"])[0] == target == record["structure"]
    assert "solved" in proc.stderr  # progress went to stderr


def test_design_fasta_from_file_with_a_bad_target(tmp_path):
    path = tmp_path / "targets.txt"
    path.write_text(">hairpin\n(((((....)))))\n>broken\n((((...)))\n(((...)))\n")
    proc = run("design", "--input", str(path), "--time-limit", "30", "--seed", "1", "--quiet")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "rnadesign: error: broken: unbalanced '(' at position 1"
    lines = proc.stdout.strip().splitlines()
    headers, sequences = lines[0::2], lines[1::2]
    assert [h.split()[0] for h in headers] == [">hairpin", ">target_5"]
    assert fold(sequences[0])[0] == "(((((....)))))"
    assert fold(sequences[1])[0] == "(((...)))"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("((((...)))", "unbalanced '(' at position 1"),
        ("((a))", "invalid character 'a' at position 3"),
        ("", "empty structure"),
        ("[[..]]", "invalid character '[' at position 1"),
    ],
)
def test_malformed_target_one_line_exit_2(target, message):
    proc = run("design", target, "--time-limit", "5")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["design"], "no target given"),
        (["design", "--input", "/nonexistent/file"], "no such file"),
        (["design", "((...))", "--time-limit", "-3"], "must be positive"),
        (["design", "((...))", "--mode", "learna", "--config", "nosuchpreset"], "unknown preset"),
        (["design", "((...))", "--mode", "meta-learna", "--config", "learna"], "--config applies to --mode learna"),
        (["design", "((...))", "--mode", "magic"], "invalid choice"),
        (["design", "((...))", "--mode", "meta-learna", "--stall-restart", "5"], "--stall-restart applies to"),
        (["design", "((...))", "--mode", "learna", "--stall-restart", "-1"], "must be 0 or positive"),
    ],
)
def test_bad_arguments_exit_2_without_traceback(args, message):
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_design_warns_of_a_target_no_sequence_folds_into():
    # Rfam-Taneda #20 ends in a lone pair across a one-base bulge that loses on every sequence; the design
    # still runs and reports its closest sequence.
    lone = (
        "..((((..(((((((((((..........((((((((...........))))))))...))))))))))).......))))"
        "................." + "(.((((((......)))))))"
    )
    loop = "(((((" + "." * 31 + "(((....)))" + ")))))"
    for target, expected in ((lone, "the lone pair 99-119"), (loop, "31 + 0 unpaired")):
        result = run("design", target, "--time-limit", "1", "--seed", "1")
        assert result.returncode == 0, result.stderr
        assert "no sequence can fold into this target" in result.stderr and expected in result.stderr
        assert "solved=no" in result.stdout
