"""Which short helices of a target can win against their own removal only narrowly, or only on a few local
assignments: a map of the needles a design must thread, for diagnosis.

For each helix of at most ``--max-pairs`` stacked pairs, E(target) - E(target without the helix) depends only
on a few bases (:func:`rnadesign.model.designability.helix_units`; exact for ViennaRNA's model with dangles
0 or 2). This enumerates every assignment of them (``--limit`` at most; past it, ``--sample`` drawn at
random) and prints the helix's best margin (the least difference: negative, the target can win there by
that much; positive, the helix loses on every sequence when enumerated exactly, which is the proof of
:mod:`~rnadesign.model.designability`) and the share of assignments on which the target wins. A helix whose
best margin is near zero, or whose winning share is tiny, is one the search must hit exactly: a point
mutation that moves one of its bases off the few winning assignments opens it, whatever the rest.

Usage:
    python scripts/measure/fragile_helices.py eterna100-v2 --only 71
    python scripts/measure/fragile_helices.py eterna100-v2 --only 68,71,76,78,86,90,97,99,100 --margin -1
    python scripts/measure/fragile_helices.py STRUCTURES.txt --max-pairs 3 --limit 2000000

Session 32 (helices of at most two pairs; a "needle": best margin -0.5 kcal/mol or closer to zero, the target
winning on under 0.1% of the assignments):
- Eterna100-V2 #71 (88 nt), left 2 sites off by every run of `hybrid` and `search` at 60 and 600 s: its outer
  two-pair helix (5-75, 6-74; 1-based) beats its removal on 199 of the 884,736 assignments of its nine units
  (0.02%), by 0.5 kcal/mol at most (the player's Vienna 2 solution by 0.1); our 60 s designs lose it by 0.5,
  session 27's 600 s design by 1.0. Maximising P(target) alone reaches P = 0.16 (the player's: 0.06) with
  the MFE 4 off (that helix open).
- Needles on all of Eterna100-V2 (``--limit 200000 --margin -0.5``, 4 min; then each helix listed enumerated
  exactly, ``--only 52,67,71,72,79,89,90,97 --margin -0.5``, 4 min): #52, 67, 71, 72, 79, 89 and 97.
  Four of them (#71, 79, 89, 97) are among the 21 puzzles some of the 16 60 s attempts of
  data/benchmark_runs/learning-pays left unsolved, three (#52, 67, 72) among the 79 all of them solved
  (Fisher's exact test p = 0.03): a needle makes a puzzle harder, not impossible. #72's lone pair 18-56 can
  at best tie its removal (0.00 kcal/mol on 4 of 147,456 assignments) and #72 is solved every time: the
  fold's tie-break keeps the pair, which is why a proof needs a bound above zero.
- A sampled bound is only the best found: #90's lone pair 207-340 looked like a needle on 20,000 draws
  (0.03%, -0.3), and its exact best is below -0.5.

Prints, per target, one line a helix at or above ``--margin`` (most fragile first), then the count.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import sys
import time

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.model import designability
from rnadesign.model.structure import Structure, parse_structure


def load_targets(source: str, only: str | None) -> list[tuple[str, Structure]]:
    """(name, structure) for the targets of a dataset or file (``--only``: those ids)."""
    wanted = set(only.split(",")) if only else None
    return [
        (entry.name, parse_structure(entry.text, warn=False))
        for entry in load_dataset(source).targets
        if wanted is None or entry.name in wanted
    ]


def helix_margins(
    target: Structure, max_pairs: int, limit: int, sample: int, seed: int
) -> list[tuple[tuple[int, int, int, int], float, float, float, int, bool]]:
    """(helix, best margin, winning share, tying share, assignments, exact) for each helix of at most
    ``max_pairs`` pairs whose removal the fold can form: every assignment when there are at most ``limit``,
    else ``sample`` drawn."""
    sequence = designability.gc_sequence(target)
    found = []
    for helix in designability.helices(target):
        i, _, u, _ = helix
        if u - i + 1 > max_pairs:
            continue
        evaluation = designability.helix_difference(sequence, target, helix)
        if evaluation is None:
            continue
        choices, difference = evaluation
        count = math.prod(len(c) for c in choices)
        exact = count <= limit
        if exact:
            assignments = itertools.product(*choices)
        else:
            rng = random.Random(seed * 100_003 + i)
            assignments = (tuple(rng.choice(c) for c in choices) for _ in range(sample))
        values = [difference(choice)[0] for choice in assignments]
        wins = sum(value < -1e-6 for value in values)  # energies are whole hundredths of a kcal/mol
        ties = sum(abs(value) <= 1e-6 for value in values)
        found.append((helix, min(values), wins / len(values), ties / len(values), count, exact))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a benchmark dataset (eterna100-v2, rfam-taneda, ...) or a file of structures")
    parser.add_argument("--only", help="comma-separated target ids of the dataset")
    parser.add_argument("--max-pairs", type=int, default=2, help="helices of at most this many pairs (default 2)")
    parser.add_argument("--limit", type=int, default=1_000_000, help="most assignments enumerated a helix")
    parser.add_argument("--sample", type=int, default=20_000, help="assignments drawn past the limit")
    parser.add_argument("--margin", type=float, default=-1.0, help="print helices whose best margin is at least this")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    shown = 0
    for name, target in load_targets(args.source, args.only):
        start = time.perf_counter()
        rows = helix_margins(target, args.max_pairs, args.limit, args.sample, args.seed)
        rows = sorted((r for r in rows if r[1] >= args.margin), key=lambda r: -r[1])
        seconds = time.perf_counter() - start
        print(f"{name} ({len(target)} nt, {seconds:.1f} s): {len(rows)} helices at {args.margin:+.1f} or above")
        for (i, j, u, v), best, share, tied, count, exact in rows:
            how = "every" if exact else f"{args.sample:,} drawn of"
            print(
                f"  {i + 1}-{j + 1} to {u + 1}-{v + 1}: best margin {best:+.2f} kcal/mol, the target wins on"
                f" {share:.4%} and ties on {tied:.4%} ({how} {count:,} assignments)"
            )
        shown += len(rows)
    print(f"{shown} helices")
    return 0


if __name__ == "__main__":
    sys.exit(main())
