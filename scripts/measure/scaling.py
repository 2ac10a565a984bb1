"""Environment steps per second of distributed meta-training for 1, 2, ... ranks.

    python scripts/measure/scaling.py --ranks 1 2 --budget 30

Each measurement is one ``torchrun --standalone --nproc-per-node N -m rnadesign meta-train`` run of
``--budget`` training seconds on the meta-train set (validation on a few targets only, at the end);
the rate is the model card's timesteps (all ranks) over its training seconds, so start-up and
validation are not counted. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def measure(ranks: int, budget: float, workers: int, max_train: int, folder: Path) -> dict:
    validation = folder / "validation.txt"
    if not validation.exists():
        from rnadesign.benchmark.datasets import load_dataset

        validation.write_text("\n".join(t.text for t in load_dataset("meta-validation").targets[:4]) + "\n")
    out = folder / f"ranks-{ranks}"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks)]
    cmd += ["-m", "rnadesign", "meta-train", "--time-budget", str(budget), "--out", str(out), "-q"]
    cmd += ["--workers", str(workers), "--max-train", str(max_train), "--validation", str(validation)]
    cmd += ["--validation-episodes", "1", "--validate-every", str(10 * budget)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0:
        sys.exit(f"{ranks} rank(s) failed:\n{proc.stderr[-3000:]}")
    card = json.loads(proc.stdout)
    rate = card["timesteps"] / card["trained_s"]
    return {"ranks": ranks, "trained_s": card["trained_s"], "steps": card["timesteps"], "rate": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--budget", type=float, default=30.0, help="training seconds per measurement")
    parser.add_argument("--workers", type=int, default=1, help="environment processes per rank")
    parser.add_argument("--max-train", type=int, default=5000, help="training structures (the first N)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(n, args.budget, args.workers, args.max_train, Path(tmp)) for n in args.ranks]
    base = rows[0]["rate"] / rows[0]["ranks"]
    print(f"{os.cpu_count()} cores")
    print("| ranks | workers/rank | trained s | env steps | steps/s | per rank | efficiency |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        per_rank = r["rate"] / r["ranks"]
        print(
            f"| {r['ranks']} | {args.workers} | {r['trained_s']:.1f} | {r['steps']} | {r['rate']:.0f} | "
            f"{per_rank:.0f} | {per_rank / base:.0%} |"
        )


if __name__ == "__main__":
    main()
