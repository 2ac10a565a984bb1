"""Two designers run on the same puzzles with the same seeds: which (puzzle, seed) each solved, per puzzle,
and the exact two-sided sign test (McNemar's) on the pairs solved by one arm only.

    python scripts/measure/paired_solves.py --a runs/KH-s21 runs/KH-s22 --b runs/KS-s21 runs/KS-s22

The i-th folder of ``--a`` pairs with the i-th of ``--b`` (one ``rnadesign benchmark ... --seed S`` run each,
the same S); within a pair, records pair by target. More targets a run than the other: only the common ones.
Session 26 (rule K, docs/design.md): ``hybrid`` against ``search`` on six short contested Eterna100-V2
puzzles at 30 s, seeds 21-32.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path


def solved(folder: str) -> dict[str, bool]:
    """Each target's outcome in one benchmark run's ``results.jsonl`` (the last record of a target wins)."""
    outcome = {}
    for line in (Path(folder) / "results.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            outcome[str(record["target_id"])] = bool(record["solved"])
    return outcome


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided binomial test of ``wins`` against ``losses`` at probability one half."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", nargs="+", required=True, help="arm A's run folders, one a seed")
    parser.add_argument("--b", nargs="+", required=True, help="arm B's run folders, in the same seed order")
    args = parser.parse_args()
    if len(args.a) != len(args.b):
        parser.error(f"--a has {len(args.a)} folders and --b {len(args.b)}: they pair one to one")
    per_a, per_b, tries = Counter(), Counter(), Counter()
    only_a = only_b = 0
    for folder_a, folder_b in zip(args.a, args.b):
        a, b = solved(folder_a), solved(folder_b)
        for target in sorted(set(a) & set(b)):
            tries[target] += 1
            per_a[target] += a[target]
            per_b[target] += b[target]
            only_a += a[target] and not b[target]
            only_b += b[target] and not a[target]
    print("| puzzle | A solved | B solved |")
    print("|---|---|---|")
    for target in sorted(tries, key=lambda t: (len(t), t)):
        print(f"| {target} | {per_a[target]}/{tries[target]} | {per_b[target]}/{tries[target]} |")
    total = sum(tries.values())
    print(f"| all | {sum(per_a.values())}/{total} | {sum(per_b.values())}/{total} |")
    print(f"solved by A only {only_a}, by B only {only_b}: sign test p = {sign_test(only_a, only_b):.4f}")


if __name__ == "__main__":
    main()
