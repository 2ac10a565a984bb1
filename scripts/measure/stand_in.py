"""Does a design's miss lie outside one branch of the target? For each design of a target in benchmark results
files, the branch closed by a given pair (by default the longest branch of the exterior loop) is replaced by a
short stand-in hairpin in both the design and the target, and the reduced design is refolded with ViennaRNA:
when the reduced design misses by exactly as many sites as the whole one, that branch takes no part in the miss,
and the rest of the target can be studied (and designed) without it, at the cost of folds of the shorter length.

    python scripts/measure/stand_in.py data/benchmark_runs/*/*/results.jsonl --target 68

The reference (the Eterna players' Vienna 2 solution of an Eterna100-V2 puzzle, or ``--reference SEQUENCE``)
is reduced the same way. ``--print-target`` prints the reduced target alone (for ``rnadesign design``).

Session 35, Eterna100-V2 #68 (282 nt; its 128-nt core is the branch 84-211 between six modules and five):
every unsolved design on record misses by the same number of sites once the core is a 16-nt stand-in (170 nt),
and the players' solution still folds; the reduced target is no easier for the designer.
"""

from __future__ import annotations

import argparse

from rnadesign.benchmark.datasets import eterna100_v2_solutions
from rnadesign.benchmark.records import target_records
from rnadesign.model.folding import fold, hamming
from rnadesign.model.metrics import ensemble_view
from rnadesign.model.structure import outer_pairs, parse_structure

STAND_IN = ("GGGGGCGAAAGCCCCC", "((((((....))))))")


def longest_exterior_branch(target: str) -> tuple[int, int]:
    """The closing pair (i, j) of the longest branch of the exterior loop; sites 0-based."""
    pairs = parse_structure(target, warn=False).pairs
    branches = outer_pairs(pairs, 0, len(target))
    if not branches:
        raise SystemExit("the target has no pair")
    return max(branches, key=lambda p: p[1] - p[0])


def reduce(text: str, i: int, j: int, stand_in: str) -> str:
    """``text`` with sites i..j (inclusive) replaced by ``stand_in``."""
    return text[:i] + stand_in + text[j + 1 :]


def reduced_view(sequence: str, target: str, i: int, j: int) -> tuple[int, float]:
    """Sites off and P(target) of the reduced design against the reduced target."""
    small = parse_structure(reduce(target, i, j, STAND_IN[1]), warn=False)
    view = ensemble_view(reduce(sequence, i, j, STAND_IN[0]), small, defects=False)
    return view.distance, view.probability


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="benchmark results.jsonl files")
    parser.add_argument("--target", required=True, help="the target id in the results files")
    parser.add_argument("--pair", nargs=2, type=int, metavar=("I", "J"), help="the branch's closing pair, 0-based")
    parser.add_argument("--reference", help="a solution to reduce beside the designs")
    parser.add_argument("--designs", type=int, default=20, help="how many of the closest designs to list")
    parser.add_argument("--print-target", action="store_true", help="print the reduced target and stop")
    args = parser.parse_args()
    records = target_records(args.results, args.target, unsolved=True)
    if not records:
        raise SystemExit(f"no unsolved record of target {args.target} in the results files")
    target = records[0]["target"]
    i, j = args.pair if args.pair else longest_exterior_branch(target)
    if parse_structure(target, warn=False).pairs[i] != j:
        raise SystemExit(f"({i}, {j}) is not a pair of the target")
    if args.print_target:
        print(reduce(target, i, j, STAND_IN[1]))
        return
    print(
        f"branch ({i}, {j}), {j - i + 1} nt, replaced by {STAND_IN[0]}: {len(target)} -> "
        f"{len(target) - (j - i + 1) + len(STAND_IN[0])} nt"
    )
    reference = args.reference
    if reference is None and records[0]["dataset"] == "eterna100-v2":
        reference = eterna100_v2_solutions().get(args.target, ("", None))[1]
    if reference:
        whole = hamming(fold(reference)[0], target)
        off, probability = reduced_view(reference, target, i, j)
        print(f"reference: {whole} off whole, {off} off reduced, P(reduced target) {probability:.2g}")
    records.sort(key=lambda r: r["distance"])
    same = 0
    for rank, record in enumerate(records):
        off, probability = reduced_view(record["sequence"], target, i, j)
        same += off == record["distance"]
        if rank < args.designs:
            print(
                f"{record['distance']:3d} off whole  {off:3d} off reduced  P {probability:.2g}  "
                f"{record['method']} seed {record['seed']}"
            )
    print(f"{same} of {len(records)} unsolved designs miss by as many sites reduced as whole")


if __name__ == "__main__":
    main()
