"""The multiloops a design's fold closes with pairs the target does not have: for each design of a target in
benchmark results files, the MFE structure's wrong pairs that close a multiloop, with the loop's branches and
its initiation under the energy model (ViennaRNA's ``MLclosing + MLintern * (branches + 1)``), refolded here.

    python scripts/measure/wrong_loops.py data/benchmark_runs/*/*/results.jsonl --target 68

Under Turner 2004 (ViennaRNA 2.8: 9.3 kcal/mol to close, -0.9 a branch, the closing pair counted) a
multiloop of ten or more inner branches costs nothing or less to start, so a target whose exterior loop holds
many branches invites one pair that bridges them: the branches move into a multiloop cheaply. Session 34,
Eterna100-V2 #68 (eleven bulged hairpin modules and a core, twelve exterior branches): each of the 56 unsolved
designs on record folds with such a bridge, a pair joining a module (or spacer) before the core to one after
it, around 5-12 branches (ten or more in 23); the closest (3 off) bridges ten (initiation -0.6 kcal/mol) with
one A-U pair between a spacer and the last module.
"""

from __future__ import annotations

import argparse

import RNA

from rnadesign.benchmark.records import target_records
from rnadesign.model.folding import fold
from rnadesign.model.structure import outer_pairs, parse_structure


def wrong_multiloops(design: str, target: str) -> list[tuple[int, int, int, float]]:
    """(i, j, inner branches, initiation in kcal/mol) for each pair of the design's MFE structure that the
    target lacks and that closes a multiloop; sites 0-based."""
    pairs = parse_structure(fold(design)[0], warn=False).pairs
    want = parse_structure(target, warn=False).pairs
    params = RNA.param()
    found = []
    for i, j in enumerate(pairs):
        if j > i and want[i] != j:
            branches = len(outer_pairs(pairs, i + 1, j))
            if branches >= 2:
                initiation = (params.MLclosing + params.MLintern[1] * (branches + 1)) / 100
                found.append((i, j, branches, initiation))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="benchmark results.jsonl files")
    parser.add_argument("--target", required=True, help="the target id in the results files")
    parser.add_argument("--designs", type=int, default=10, help="how many of the closest designs to list")
    args = parser.parse_args()
    records = target_records(args.results, args.target, unsolved=True)
    if not records:
        raise SystemExit(f"no unsolved record of target {args.target} in the results files")
    records.sort(key=lambda r: r["distance"])
    bridged = 0
    for rank, record in enumerate(records):
        loops = wrong_multiloops(record["sequence"], record["target"])
        bridged += bool(loops)
        if rank < args.designs:
            shown = "; ".join(
                f"({i}, {j}) {record['sequence'][i]}-{record['sequence'][j]}: {b} branches, {e:+.1f} kcal/mol"
                for i, j, b, e in loops[:3]
            )
            print(f"{record['distance']:3d} off  {record['method']} seed {record['seed']}: {shown or 'none'}")
    print(f"{bridged} of {len(records)} unsolved designs fold with a wrong pair that closes a multiloop")


if __name__ == "__main__":
    main()
