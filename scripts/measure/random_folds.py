"""How hard are the MFE structures of random sequences for the designer? They are designable by construction
(the sequence folds into its own MFE structure), so they were a candidate source of contested training
structures for expert iteration (session 27's generated "hard" structures were mostly undesignable).

    python scripts/measure/random_folds.py --count 150 --seed 1 --out runs/random-folds.jsonl

Each line: the target, the random sequence it came from, whether a proof of undesignability falls on it
(it must not), and `hybrid`'s outcome and time. Session 28: 150 of 150 solved (60-150 nt), the slowest in
0.48 s, median 0.03 s: no contested structures come from this source.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from rnadesign.design import DesignSettings, design
from rnadesign.model.designability import undesignable
from rnadesign.model.folding import fold
from rnadesign.model.structure import parse_structure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-length", type=int, default=60)
    parser.add_argument("--max-length", type=int, default=150)
    parser.add_argument("--min-pairs", type=int, default=6, help="skip folds with fewer pairs")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("runs/random-folds.jsonl"))
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    records = []
    with open(args.out, "a", encoding="utf-8") as out:  # appended as produced: an interruption loses nothing
        while len(records) < args.count:
            length = int(rng.integers(args.min_length, args.max_length + 1))
            sequence = "".join(rng.choice(list("ACGU"), length))
            target = fold(sequence)[0]  # the default model, as the designs are folded
            if target.count("(") < args.min_pairs:
                continue
            proof = bool(undesignable(parse_structure(target, warn=False)))
            result = design(target, DesignSettings(mode="hybrid", time_limit=args.time_limit, seed=len(records)))
            record = {
                "target": target,
                "witness": sequence,
                "proof": proof,
                "solved": bool(result.solved),
                "distance": result.distance,
                "time_s": round(result.time_s, 3),
            }
            out.write(json.dumps(record) + "\n")
            out.flush()
            records.append(record)
    times = sorted(r["time_s"] for r in records)
    print(
        f"{sum(r['solved'] for r in records)} of {len(records)} solved; proofs on {sum(r['proof'] for r in records)}; "
        f"time median {statistics.median(times):.3f} s, slowest {times[-1]:.3f} s, "
        f"over 1 s: {sum(t > 1 for t in times)}"
    )


if __name__ == "__main__":
    main()
