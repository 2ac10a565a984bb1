"""The benchmark harness: datasets by name, honest records, resume after a kill, summary and plot."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rnadesign.benchmark.datasets import DATASETS, load_dataset
from rnadesign.benchmark.runner import run_benchmark
from rnadesign.benchmark.spec import BenchmarkSpec, read_results
from rnadesign.benchmark.summary import compare, summarize, table
from rnadesign.model.folding import fold, is_unique_mfe
from rnadesign.model.structure import InvalidTargetFileError

EASY = ["((((....))))", "(((((......)))))", "((((....))))..((((....))))", "((((((....))))))", "(((....)))"]


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("eterna100-v1", 100),
        ("eterna100-v2", 100),
        ("rfam-taneda", 29),
        ("rfam-learn-test", 100),
        ("meta-validation", 100),
    ],
)
def test_datasets_by_name(name, count):
    dataset = load_dataset(name)
    assert len(dataset.targets) == count
    for target in dataset.targets[:5]:
        target.parse(warn=False)
    assert set(DATASETS) >= {name}


def test_dataset_ids_follow_the_files():
    taneda = load_dataset("rfam-taneda")
    assert [t.name for t in taneda.targets[:3]] == ["1", "2", "3"]
    assert taneda.published == "rfam-taneda"
    with open(os.path.join(os.path.dirname(__file__), os.pardir, "data", "rfam_taneda", "3.rna")) as f:
        assert taneda.targets[2].text == f.read().strip()
    assert [t.name for t in load_dataset("rfam-learn-test").targets[:2]] == ["1", "2"]


def test_dataset_from_path_and_unknown(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("\n".join(EASY[:2]) + "\n")
    dataset = load_dataset(path)
    assert dataset.name == "mine" and [t.name for t in dataset.targets] == ["1", "2"]
    with pytest.raises(InvalidTargetFileError, match="unknown dataset"):
        load_dataset("eterna1000")


def _check_records(records):
    for r in records:
        for key in (
            "target_id",
            "target",
            "run",
            "method",
            "seed",
            "solved",
            "solved_unique",
            "distance",
            "time_s",
            "sequence",
            "status",
        ):
            assert key in r
        if r["solved"]:
            assert fold(r["sequence"])[0] == r["target"]  # the test refolds every accepted design
            assert r["solved_unique"] == is_unique_mfe(r["sequence"], r["target"])
            assert r["time_s"] <= r["time_limit"] and r["status"] == "solved"


def test_rnainverse_records_are_refolded_and_summarized(tmp_path):
    path = tmp_path / "set.txt"
    path.write_text("\n".join([EASY[0], EASY[2], "((((((((..))))))))"]) + "\n")  # the last is unsolvable
    dataset = load_dataset(path)
    spec = BenchmarkSpec(method="rnainverse", time_limit=3, runs=2, jobs=2, seed=4)
    records = run_benchmark(dataset, spec, tmp_path / "out")
    assert len(records) == 6
    _check_records(records)
    unsolvable = [r for r in records if r["target_id"] == "3"]
    assert all(not r["solved"] and r["status"].startswith("timeout") and r["distance"] > 0 for r in unsolvable)
    summary = summarize(
        records, dataset=dataset.name, method="rnainverse", time_limit=3, n_targets=3, runs=2, config={}
    )
    assert summary["solved"] == 2 and summary["solved_at"]["3"] == 2 and summary["mean_solved_per_run"] == 2
    assert set(summary["solved_at"]) == {"1", "3"}
    assert summary["undesignable"] == ["3"]  # its hairpin has 2 unpaired bases
    assert "no sequence can fold into 1 target(s)" in table(summary)


def test_learna_method_through_the_harness(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text(EASY[3] + "\n")
    records = run_benchmark(load_dataset(path), BenchmarkSpec(method="learna", time_limit=40), tmp_path / "out")
    assert len(records) == 1 and records[0]["solved"], records
    _check_records(records)
    assert records[0]["time_s"] > 1  # counted from process start: imports included


def test_cli_kill_and_resume_redoes_nothing(tmp_path):
    path = tmp_path / "set.txt"
    path.write_text("\n".join(EASY * 2) + "\n")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "rnadesign",
        "benchmark",
        str(path),
        "--method",
        "rnainverse",
        "--time-limit",
        "5",
        "--out",
        str(out),
        "--jobs",
        "1",
        "-q",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(read_results(out)) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = (out / "results.jsonl").read_text().splitlines()
    assert 3 <= len(before) < len(EASY) * 2, "the kill should land half-way"
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after = (out / "results.jsonl").read_text().splitlines()
    assert after[: len(before)] == before  # finished attempts were kept, not redone
    records = [json.loads(line) for line in after]
    assert sorted(r["target_id"] for r in records) == sorted(str(i) for i in range(1, 11))
    _check_records(records)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["solved"] == 10 and summary["n_targets"] == 10
    assert (out / "solved_vs_time.png").stat().st_size > 1000
    table = subprocess.run(
        [sys.executable, "-m", "rnadesign", "benchmark", "compare", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert table.returncode == 0 and "| set | rnainverse | 5s | 1 |" in table.stdout


def test_compare_adds_published_figures(tmp_path):
    summary = {
        "dataset": "rfam-taneda",
        "method": "learna",
        "time_limit": 60,
        "n_targets": 29,
        "runs": 1,
        "solved_at": {"10": 5, "60": 9},
        "vienna_version": "2.8.0",
    }
    (tmp_path / "summary-learna-60s.json").write_text(json.dumps(summary))
    table = compare([tmp_path])
    assert "| rfam-taneda | learna | 60s | 1 | 5/29 | 9/29 |" in table
    assert "| rfam-taneda | Meta-LEARNA (published, ICLR 2019) | | 50 |" in table
    with pytest.raises(ValueError, match="no summary"):
        compare([tmp_path / "empty"])


def test_compare_tells_rows_of_one_method_apart_by_folder(tmp_path):
    summary = {"dataset": "set", "method": "search", "time_limit": 60, "n_targets": 4, "runs": 1}
    for arm, solved in (("search", 2), ("search-adapt", 3)):
        (tmp_path / arm).mkdir()
        row = {**summary, "solved_at": {"60": solved}, "vienna_version": "2.8.0"}
        (tmp_path / arm / "summary.json").write_text(json.dumps(row))
    table = compare([tmp_path / "search", tmp_path / "search-adapt"])
    assert "| set | search | 60s | 1 | 2/4 |" in table
    assert "| set | search (search-adapt) | 60s | 1 | 3/4 |" in table
    assert "(search)" not in compare([tmp_path / "search"])
    (tmp_path / "seed-2" / "search").mkdir(parents=True)
    (tmp_path / "seed-2" / "search" / "summary.json").write_text((tmp_path / "search" / "summary.json").read_text())
    table = compare([tmp_path / "search", tmp_path / "seed-2" / "search"])
    assert f"| set | search ({tmp_path.name}/search) |" in table and "| set | search (seed-2/search) |" in table


def test_bad_benchmark_arguments():
    proc = subprocess.run(
        [sys.executable, "-m", "rnadesign", "benchmark", "nosuchset", "--time-limit", "1", "--out", "/tmp/x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown dataset" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnadesign",
            "benchmark",
            "rfam-taneda",
            "--method",
            "magic",
            "--time-limit",
            "1",
            "--out",
            "/tmp/x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown method" in proc.stderr


def test_shard_arithmetic():
    from rnadesign.benchmark.spec import parse_shard, shard_attempts
    from rnadesign.errors import ConfigError

    assert parse_shard("2/8") == (2, 8) and parse_shard(" 1 / 1 ") == (1, 1)
    for bad in ("0/4", "5/4", "2", "a/b", "-1/2"):
        with pytest.raises(ConfigError, match="K/N"):
            parse_shard(bad)
    attempts = list(range(11))
    parts = [shard_attempts(attempts, (k, 3)) for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == attempts and parts[0] == [0, 3, 6, 9]
    assert shard_attempts(attempts, None) == attempts


def _bench(path, out, *extra):
    cmd = [sys.executable, "-m", "rnadesign", "benchmark", str(path), "--method", "rnainverse", "--time-limit", "3"]
    cmd += ["--runs", "2", "--jobs", "2", "--out", str(out), "-q", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_shards_cover_every_attempt_once_and_merge_into_the_unsharded_summary(tmp_path):
    from rnadesign.benchmark.summary import merge_shards

    path = tmp_path / "set.txt"
    path.write_text("\n".join(EASY[:3]) + "\n")
    _bench(path, tmp_path / "whole")
    _bench(path, tmp_path / "a", "--shard", "1/2")
    _bench(path, tmp_path / "b", "--shard", "2/2")
    whole = read_results(tmp_path / "whole")
    shards = [read_results(tmp_path / "a", (1, 2)), read_results(tmp_path / "b", (2, 2))]
    assert not (tmp_path / "a" / "results.jsonl").exists()  # a shard writes its own file only
    attempts = [{(r["target_id"], r["run"]) for r in records} for records in shards]
    assert attempts[0].isdisjoint(attempts[1]) and len(attempts[0]) + len(attempts[1]) == len(whole) == 6
    assert attempts[0] | attempts[1] == {(r["target_id"], r["run"]) for r in whole}
    assert {r["shard"] for r in shards[0]} == {"1/2"} and {r["shard"] for r in shards[1]} == {"2/2"}
    _check_records(shards[0] + shards[1])

    merged_dir = tmp_path / "merged"
    proc = subprocess.run(
        [sys.executable, "-m", "rnadesign", "benchmark", "summary", str(tmp_path / "a"), str(tmp_path / "b")]
        + ["--out", str(merged_dir), "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    merged = json.loads((merged_dir / "summary.json").read_text())
    unsharded = json.loads((tmp_path / "whole" / "summary.json").read_text())
    assert set(merged) == set(unsharded)  # the same structure; solve counts depend on timing, attempts do not
    for key in ("dataset", "method", "time_limit", "n_targets", "runs", "attempts_recorded", "config"):
        assert merged[key] == unsharded[key], key
    assert sum(merged["statuses"].values()) == sum(unsharded["statuses"].values()) == 6
    assert set(merged["solved_at"]) == set(unsharded["solved_at"])
    assert merged["series"]["id"] == unsharded["series"]["id"]  # the same settings
    assert merged["series"]["shards"] == 2 and merged["series"]["shards_missing"] == []
    assert (
        "| set | rnainverse | 3s | 2 |"
        in subprocess.run(
            [sys.executable, "-m", "rnadesign", "benchmark", "compare", str(merged_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    )

    # Refused: a shard twice, and shards of another setting (here: another series, as a changed
    # --time-limit or --seed would give), each with one clear line.
    with pytest.raises(ValueError, match="found twice"):
        merge_shards([tmp_path / "a", tmp_path / "a"])
    other = tmp_path / "other"
    other.mkdir()
    summary = json.loads((tmp_path / "b" / "shard-2-of-2-summary.json").read_text())
    summary["series"]["id"] = "0123456789ab"
    (other / "shard-2-of-2-summary.json").write_text(json.dumps(summary))
    proc = subprocess.run(
        [sys.executable, "-m", "rnadesign", "benchmark", "summary", str(tmp_path / "a"), str(other)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "mixed settings" in proc.stderr and "Traceback" not in proc.stderr
    summary["series"]["id"], summary["time_limit"] = merged["series"]["id"], 10
    (other / "shard-2-of-2-summary.json").write_text(json.dumps(summary))
    with pytest.raises(ValueError, match="mixed settings: time_limit"):
        merge_shards([tmp_path / "a", other])
    summary["time_limit"], summary["series"]["shard"] = 3, "2/3"
    (other / "shard-2-of-2-summary.json").write_text(json.dumps(summary))
    with pytest.raises(ValueError, match="mixed shard counts"):
        merge_shards([tmp_path / "a", other])
