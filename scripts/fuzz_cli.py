"""Run every bad or edge input of the reliability issues (28 and the earlier 11) as a new user would, as
subprocesses with short time limits, and print a table: case, exit code, traceback or not, and the
last line on stderr. Ends with the count of tracebacks (exit 1 if there is any).

    python scripts/fuzz_cli.py            # every case (a few minutes on 2 cores; meta-train is the slowest)
    python scripts/fuzz_cli.py --quick    # without the cases that take more than a few seconds
    python scripts/fuzz_cli.py --only 28. # the cases whose name contains "28."
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RNA = [PY, "-m", "rnadesign"]
AUTORL = [PY, "-m", "autorl"]
TARGETS = ["((((....))))", "((((((....))))))"]


@dataclass
class Case:
    name: str
    command: list[str] | str  # argv, or a shell line (run by bash)
    timeout: float = 60
    slow: bool = False
    signal_after: float | None = None  # send SIGINT (or ``signum``) this long after "designing" appears
    signum: int = signal.SIGINT
    leaves_nothing: str | None = None  # a path the command must not create (argument errors)


def _record(target_id: str, **changes) -> dict:
    from rnadesign.benchmark.records import sample_record

    return sample_record("targets", target_id, TARGETS[int(target_id) - 1], **changes)


def _lines(records: list[dict], tail: str = "") -> str:
    return "".join(json.dumps(r) + "\n" for r in records) + tail


def _shard(folder: Path, records_text: str) -> None:
    from rnadesign.benchmark.records import sample_shard_summary

    folder.mkdir()
    summary = sample_shard_summary("targets", len(TARGETS))
    (folder / "shard-1-of-1-summary.json").write_text(json.dumps(summary))
    (folder / "results-shard-1-of-1.jsonl").write_text(records_text)


def _results(folder: Path, content: bytes) -> None:
    folder.mkdir()
    (folder / "results.jsonl").write_bytes(content)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def setup(work: Path) -> None:
    """The files the cases read, all under ``work``."""
    (work / "targets.txt").write_text("\n".join(TARGETS) + "\n")
    (work / "latin1.txt").write_bytes("((((....))))\n# caf\xe9\n".encode("latin-1"))
    (work / "constraint_first.txt").write_text("GGGG*\n((((....))))\n")
    (work / "headers.txt").write_text(">lonely\n>hairpin\n((((....))))\n>last\n")
    (work / "bom.txt").write_bytes("\ufeff((((....))))\n".encode())
    (work / "evil.pt").write_bytes(pickle.dumps({"format": "rnadesign-policy-1", "x": _Exploit()}, protocol=2))
    (work / "truncated.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    (work / "a_file").write_text("not a folder\n")
    (work / "dir").mkdir()
    (work / "float_radius.json").write_text(json.dumps({"env": {"state_radius": 3.5}}))
    (work / "float_envs.json").write_text(json.dumps({"ppo": {"n_envs": 2.0}}))
    (work / "secret").write_text("s3cret")
    (work / "ns").mkdir()
    (work / "ns" / "nameserver.json").write_text("[]")
    (work / "live").mkdir()
    (work / "live" / "configs.json").write_text("{}\n")
    (work / "live" / "results.json").write_text("")
    (work / "torn_live").mkdir()
    (work / "torn_live" / "configs.json").write_text('[[0, 0, 0], {"a": 1}, {}]\n[[0, 0, 1], {"a"')
    (work / "torn_live" / "results.json").write_text("")
    _results(
        work / "no_solved", _lines([_record("1"), {k: v for k, v in _record("2").items() if k != "solved"}]).encode()
    )
    _results(work / "time_abc", _lines([_record("1"), _record("2", time_s="abc")]).encode())
    _results(work / "null", b"null\n")
    _results(work / "not_utf8", b'{"a": 1}\n\xff\xfe\n')
    _results(work / "torn", _lines([_record("1")], tail=json.dumps(_record("2"))[:60]).encode())
    _shard(work / "shard_abc", _lines([_record("1"), _record("2", time_s="abc")]))
    _shard(work / "shard_torn", _lines([_record("1")], tail=json.dumps(_record("2"))[:90]))
    _wrong_weights(work / "wrong_weights.safetensors")


def _wrong_weights(path: Path) -> None:
    """A policy file of the right format whose weights are another network's."""
    code = (
        "import sys, numpy as np\n"
        "from rnadesign.rl.policy_file import default_policy_path, load_policy, save_policy\n"
        "p = load_policy(default_policy_path())\n"
        "w = {k: np.zeros((3, 3), dtype=np.float32) for k in p.state_dict}\n"
        "save_policy(sys.argv[1], p.agent, w, p.card)\n"
    )
    subprocess.run([PY, "-c", code, str(path)], capture_output=True, timeout=60)


def cases() -> list[Case]:
    hard = "((((((((....))))))))..((((....))))"
    taneda23 = (ROOT / "data" / "rfam_taneda" / "23.rna").read_text().split()[-1]
    taneda20 = str(ROOT / "data" / "rfam_taneda" / "20.rna")
    bench = [*RNA, "benchmark", "targets.txt", "-t", "1"]
    design = [*RNA, "design", "((((....))))", "-t", "1"]
    return [
        # issue 28
        Case("28.1 record without 'solved', re-run", [*bench, "-o", "no_solved"]),
        Case("28.1 record with time_s 'abc', re-run", [*bench, "-o", "time_abc"]),
        Case("28.1 shard record with time_s 'abc', summary", [*RNA, "benchmark", "summary", "shard_abc"]),
        Case(
            "28.2 two writers on one folder",
            f"{PY} -m rnadesign benchmark targets.txt -t 2 -o two & sleep 0.5; "
            f"{PY} -m rnadesign benchmark targets.txt -t 2 -o two; code=$?; wait; exit $code",
        ),
        Case("28.3 torn shard line, summary", [*RNA, "benchmark", "summary", "shard_torn"]),
        *(Case(f"28.4 --avoid {a!r}", [*design, "--avoid", a]) for a in ("S,W", "R,Y", "N", "GG*", "", ",,")),
        Case("28.5 no design within 0.001 s", [*RNA, "design", hard, "-t", "0.001"]),
        Case(
            "28.5 68.rna rnainverse 3 s",
            [*RNA, "design", "--input", str(ROOT / "data/eterna100_v2/68.rna"), "-t", "3", "--mode", "rnainverse"],
            slow=True,
        ),
        Case("28.6 SIGINT 2 s into a 10 s design", [*RNA, "design", "--input", taneda20, "-t", "10"], signal_after=2),
        Case(
            "28.6 SIGTERM 2 s into a 10 s design",
            [*RNA, "design", "--input", taneda20, "-t", "10"],
            signal_after=2,
            signum=signal.SIGTERM,
        ),
        Case("28.7 pickled policy", [*design, "--mode", "meta-learna", "--policy", "evil.pt"]),
        Case("28.7 --energy-parameters DIR", [*design, "--energy-parameters", "dir"]),
        Case("28.7 --policy DIR", [*design, "--mode", "meta-learna", "--policy", "dir"]),
        Case("28.7 Latin-1 input file", [*RNA, "design", "--input", "latin1.txt", "-t", "1"]),
        Case("28.7 --temperature 200", [*design, "--temperature", "200"]),
        Case("28.7 --gc-content 1.5", [*design, "--gc-content", "1.5"]),
        Case("28.7 constraint line before any structure", [*RNA, "design", "--input", "constraint_first.txt"]),
        Case(
            "28.8 benchmark eterna200",
            [*RNA, "benchmark", "eterna200", "-t", "1", "-o", "runs/x"],
            leaves_nothing="runs",
        ),
        Case("28.8 benchmark --method foo", [*bench, "--method", "foo", "-o", "runs/y"], leaves_nothing="runs"),
        Case("28.8 benchmark --only 999", [*bench, "--only", "999", "-o", "runs/z"], leaves_nothing="runs"),
        # issue 11
        Case("11.1 benchmark rnainverse", [*bench, "--method", "rnainverse", "-o", "reuse"]),
        Case(
            "11.1 same folder, other model and seed",
            [*bench, "--method", "rnainverse", "-o", "reuse", "--energy-parameters", "andronescu2007"]
            + ["--temperature", "70", "--seed", "7"],
        ),
        Case("11.2 451 nt at 5 s", [*RNA, "design", taneda23, "-t", "5"], slow=True),
        Case("11.2 451 nt at 0.5 s", [*RNA, "design", taneda23, "-t", "0.5"]),
        Case(
            "11.3 meta-train, tiny budget",
            [*RNA, "meta-train", "--time-budget", "3", "--workers", "1", "--max-train", "2", "--out", "meta"],
            timeout=240,
            slow=True,
        ),
        Case("11.3 meta-train --out FILE", [*RNA, "meta-train", "--time-budget", "3", "--out", "a_file"]),
        Case("11.4 torn results line, re-run", [*bench, "-o", "torn"]),
        Case("11.4 torn autorl live log, best", [*AUTORL, "best", "torn_live"]),
        Case("11.5 --seed -1", [*design, "--seed", "-1"]),
        Case("11.5 --seed 2**70", [*design, "--seed", str(2**70)]),
        Case("11.5 seed overflow mid-file", [*RNA, "design", "--input", "targets.txt", "-t", "1", "-s", "2147483647"]),
        Case(
            "11.5 policy of other weights", [*design, "--mode", "meta-learna", "--policy", "wrong_weights.safetensors"]
        ),
        Case("11.5 --config float state_radius", [*design, "--mode", "learna", "--config", "float_radius.json"]),
        Case("11.5 --config float n_envs", [*design, "--mode", "learna", "--config", "float_envs.json"]),
        Case("11.5 benchmark --out FILE", [*bench, "-o", "a_file"]),
        Case("11.5 benchmark -t inf", [*RNA, "benchmark", "targets.txt", "-t", "inf", "-o", "inf"]),
        Case("11.5 results.jsonl holding null", [*bench, "-o", "null"]),
        Case("11.5 results.jsonl not UTF-8", [*bench, "-o", "not_utf8"]),
        Case(
            "11.5 autorl nameserver --port 99999", [*AUTORL, "nameserver", "--port", "99999", "--secret-file", "secret"]
        ),
        Case(
            "11.5 nameserver.json holding []",
            [*AUTORL, "worker", "--dir", "ns", "--secret-file", "secret", "--wait-for-master", "1"],
        ),
        Case("11.5 configs.json row {}", [*AUTORL, "best", "live"]),
        Case("11.5 header without structure", [*RNA, "design", "--input", "headers.txt", "-t", "1"]),
        Case("11.5 UTF-8 byte-order mark", [*RNA, "design", "--input", "bom.txt", "-t", "1"]),
        Case("11.5 --policy with --mode learna", [*design, "--mode", "learna", "--policy", "x.safetensors"]),
        Case("11.5 rnadesign --help", [*RNA, "--help"]),
        Case("11.5 truncated policy file", [*design, "--mode", "meta-learna", "--policy", "truncated.safetensors"]),
    ]


def run(case: Case, work: Path) -> tuple[int | str, str]:
    """Exit code (or 'timeout') and everything on stderr."""
    shell = isinstance(case.command, str)
    command = ["bash", "-c", case.command] if shell else case.command
    if case.signal_after is None:
        try:
            proc = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=case.timeout)
        except subprocess.TimeoutExpired as err:
            return "timeout", (err.stderr or b"").decode() if isinstance(err.stderr, bytes) else (err.stderr or "")
        return proc.returncode, proc.stderr
    proc = subprocess.Popen(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    while proc.poll() is None:
        line = proc.stderr.readline()
        seen.append(line)
        if "designing" in line:
            break
    time.sleep(case.signal_after)
    if proc.poll() is None:
        os.kill(proc.pid, case.signum)
    try:
        _, rest = proc.communicate(timeout=case.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return "timeout", "".join(seen)
    return proc.returncode, "".join(seen) + rest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="leave out the slow cases")
    parser.add_argument("--only", metavar="TEXT", help="run only the cases whose name contains TEXT")
    args = parser.parse_args()
    selected = [c for c in cases() if not (args.quick and c.slow) and (args.only is None or args.only in c.name)]
    tracebacks = 0
    with tempfile.TemporaryDirectory(prefix="fuzz-cli-") as tmp:
        work = Path(tmp)
        setup(work)
        width = max(len(c.name) for c in selected)
        print(f"| {'case':<{width}} | exit | traceback | last line on stderr |")
        print(f"|{'-' * (width + 2)}|------|-----------|---------------------|")
        for case in selected:
            code, stderr = run(case, work)
            traceback = "Traceback (most recent call last)" in stderr
            tracebacks += traceback
            last = (stderr.strip().splitlines() or [""])[-1][:100].replace("|", "\\|")
            if case.leaves_nothing is not None and (work / case.leaves_nothing).exists():
                last = f"LEFT {case.leaves_nothing} BEHIND; {last}"
                tracebacks += 1  # counted as a failure too
            print(f"| {case.name:<{width}} | {code!s:>4} | {'yes' if traceback else 'no':<9} | {last} |", flush=True)
        if (work / "pwned.txt").exists():
            print("pickled code ran: pwned.txt was written")
            tracebacks += 1
    print(f"\n{len(selected)} cases, {tracebacks} traceback(s) (or folders left behind by an argument error)")
    return 1 if tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
