"""Whether a design left a few sites off can be fixed by a small local change: every change of 1..K units
(an unpaired site to another base, or a target pair to another of GC, CG, AU, UA, GU, UG) among the units
within R sites of the design's misses, each refolded; prints how many were tried and how many ended at each
distance. A design no such change fixes is held by a coordinated misfold (a decoy), not by one bad base.

    python scripts/measure/local_fixes.py RESULTS.jsonl --target 68 --radius 4 --units 2

RESULTS.jsonl is a benchmark folder's results file (the first record of that target is read). The decoy's
pairs (mispaired sites and their partners in the design's fold) are printed first.

Session 29, #68's 600 s design of session 28's exploratory run (2 sites off, 282 nt): site 13 pairs with
253, closing a multiloop over almost the whole target, and the motif at 241-253 shifts (250 pairs with 243)
to free 253. No change of one or two units within 8 sites of either miss fixes it, and none of 2 units
within 4 sites of both misses together (4011 designs of two changes, best 2 off; a few minutes on one
core): breaking the pair 13-253 lets other copies of the repeated motif pair with each other (46-54 with 213-222).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter

from rnadesign.model.alphabet import PAIRS
from rnadesign.model.folding import fold, hamming
from rnadesign.model.structure import parse_structure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--target", required=True, help="the target id in the results file")
    parser.add_argument("--radius", type=int, default=4, help="units within this many sites of a miss")
    parser.add_argument("--units", type=int, default=2, help="change up to this many units at once")
    args = parser.parse_args()
    with open(args.results) as f:
        records = [json.loads(line) for line in f if line.strip()]
    record = next(r for r in records if str(r["target_id"]) == args.target)
    target, sequence = record["target"], record["sequence"]
    partner = parse_structure(target, warn=False).pairs
    folded = fold(sequence)[0]
    misses = [i for i in range(len(target)) if folded[i] != target[i]]
    decoy = parse_structure(folded, warn=False).pairs
    print(f"target {args.target}: {len(target)} nt, {len(misses)} sites off: {misses}")
    for i in misses:
        j = decoy[i]
        print(f"  {i} {sequence[i]} pairs with {j} {sequence[j]}" if j >= 0 else f"  {i} {sequence[i]} unpaired")
    units: list[tuple[int, ...]] = []
    for miss in misses:
        for i in range(max(0, miss - args.radius), min(len(target), miss + args.radius + 1)):
            j = partner[i]
            unit = (i,) if j < 0 else (min(i, j), max(i, j))
            if unit not in units:
                units.append(unit)

    def options(unit: tuple[int, ...]) -> list[tuple[tuple[int, str], ...]]:
        if len(unit) == 1:
            return [((unit[0], b),) for b in "ACGU" if b != sequence[unit[0]]]
        i, j = unit
        return [((i, p[0]), (j, p[1])) for p in PAIRS if p != sequence[i] + sequence[j]]

    distances: Counter[int] = Counter()
    for k in range(1, args.units + 1):
        for chosen in itertools.combinations(units, k):
            for change in itertools.product(*(options(u) for u in chosen)):
                letters = list(sequence)
                for i, base in itertools.chain.from_iterable(change):
                    letters[i] = base
                structure = fold("".join(letters))[0]
                distance = hamming(structure, target)
                distances[distance] += 1
                if distance == 0:
                    print(f"  fixed by {[(i, b) for i, b in itertools.chain.from_iterable(change)]}")
    tried = sum(distances.values())
    print(f"{len(units)} units, {tried} designs tried; by distance: {sorted(distances.items())[:8]}")


if __name__ == "__main__":
    main()
