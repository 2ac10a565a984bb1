"""Which parts of a reference solution a design lacks: the target cut into elements (each helix with the
unpaired sites of the loop it closes, and the exterior loop's unpaired sites), the design given the
reference's bases element by element, each result refolded with ViennaRNA.

    python scripts/measure/transplant.py data/benchmark_runs/*/*/results.jsonl --target 68 --region 84-211

For the closest designs of the target in the results files (``--designs``, default 3) it prints the
distance after taking each single element from the reference, and a small set of the reference's elements
that fixes the design: start from the reference (every element taken) and give elements back to the design
one at a time, keeping each return that leaves the target folded exactly. If that set is one or two
elements, the design's trap is local; if it spans the target, the design needs a coordinated change there.
The reference is the Eterna players' Vienna 2 solution of an Eterna100-V2 puzzle
(``data/eterna100_puzzles.tsv``) unless ``--reference SEQUENCE`` names another.

Session 33, Eterna100-V2 #68 (282 nt: eleven 13-nt modules ``((((....).)))`` around a 128-nt core), the
3- and 4-off 60 s designs on record: with the players' modules (and the rest of the design as it is) each
folds into the target exactly, and the fixing set the script finds holds the outer helices of ten of the
eleven modules; no single element helps (one element from the reference leaves them 3-29 and 4-60 off).
Our core is right; the trap is the set of modules. Over all 40 designs on record (``--region 84-211``, the
core): 17 fold into the target with the players' bases outside the core, none with the players' core.
"""

from __future__ import annotations

import argparse

from rnadesign.benchmark.datasets import eterna100_v2_solutions
from rnadesign.benchmark.records import target_records
from rnadesign.model import designability
from rnadesign.model.folding import fold, hamming
from rnadesign.model.structure import parse_structure


def elements(dot_bracket: str) -> list[list[int]]:
    """The target's sites in elements: each helix (a maximal run of stacked pairs) with the unpaired sites of
    the loop its innermost pair closes (a hairpin, bulge, interior loop or multiloop), and one element of the
    exterior loop's unpaired sites. Every site is in exactly one element, and both sites of a pair in the same."""
    structure = parse_structure(dot_bracket, warn=False)
    pairs = structure.pairs
    found = designability.helices(structure)
    count = len(found)
    helix = [-1] * len(pairs)  # the helix of each paired site
    for index, (i, _, u, _) in enumerate(found):
        for k in range(i, u + 1):
            helix[k] = helix[pairs[k]] = index
    groups: list[list[int]] = [[] for _ in range(count + 1)]  # the last: the exterior loop
    stack: list[int] = []  # opening sites of the pairs enclosing the current site
    for i, j in enumerate(pairs):
        if j > i:
            groups[helix[i]].append(i)
            stack.append(i)
        elif 0 <= j < i:
            groups[helix[i]].append(i)
            stack.pop()
        else:
            groups[helix[stack[-1]] if stack else count].append(i)
    return [g for g in groups if g]


def transplant(design: str, reference: str, sites: list[int]) -> str:
    letters = list(design)
    for i in sites:
        letters[i] = reference[i]
    return "".join(letters)


def fixing_set(design: str, reference: str, target: str, groups: list[list[int]]) -> list[int]:
    """Indices of elements of ``reference`` that, taken into ``design``, fold it into ``target``: all of them
    at first, then each given back in turn where the target still folds without it."""
    taken = list(range(len(groups)))
    for index in range(len(groups)):
        trial = [k for k in taken if k != index]
        sites = [i for k in trial for i in groups[k]]
        if fold(transplant(design, reference, sites))[0] == target:
            taken = trial
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="benchmark results.jsonl files")
    parser.add_argument("--target", required=True, help="the target id in the results files")
    parser.add_argument("--reference", help="a solution of the target (default: the players' Vienna 2 one)")
    parser.add_argument("--designs", type=int, default=3, help="how many of the closest designs to examine")
    parser.add_argument(
        "--region",
        help="LO-HI (0-based, inclusive): also count, over every design, how many fold into the target with the "
        "reference's bases outside the region (their own inside), and how many with the reference's inside",
    )
    args = parser.parse_args()
    records = target_records(args.results, args.target)
    if not records:
        raise SystemExit(f"no record of target {args.target} in the results files")
    target = records[0]["target"]
    reference = args.reference or eterna100_v2_solutions().get(args.target, ("", None))[1]
    if reference is None:
        raise SystemExit(f"no disclosed players' solution of puzzle {args.target}: give --reference")
    if len(reference) != len(target) or fold(reference)[0] != target:
        raise SystemExit("the reference does not fold into the target")
    groups = elements(target)
    print(f"target {args.target}: {len(target)} nt, {len(groups)} elements; {len(records)} designs on record")
    if args.region:
        lo, hi = (int(x) for x in args.region.split("-"))
        inside = list(range(lo, hi + 1))
        outside = [i for i in range(len(target)) if not lo <= i <= hi]
        for name, sites in (("outside", outside), ("inside", inside)):
            fixed = sum(fold(transplant(r["sequence"], reference, sites))[0] == target for r in records)
            print(f"  the reference's bases {name} {lo}-{hi}: {fixed} of {len(records)} designs fold into the target")
    for record in sorted(records, key=lambda r: r["distance"])[: args.designs]:
        design = record["sequence"]
        if fold(design)[0] == target:
            print(f"design {record['method']} seed {record['seed']}: solved, nothing to transplant")
            continue
        single = [hamming(fold(transplant(design, reference, g))[0], target) for g in groups]
        taken = fixing_set(design, reference, target, groups)
        print(f"design {record['method']} seed {record['seed']}: {record['distance']} off")
        print(f"  one element from the reference: best {min(single)} off, worst {max(single)} off")
        print(f"  a fixing set of {len(taken)} elements (sites 0-based, first to last):")
        for k in taken:
            g = groups[k]
            kind = "exterior loop" if k == len(groups) - 1 and target[g[0]] == "." else f"helix at {g[0]}"
            print(f"    {kind}: {len(g)} sites, {g[0]}-{g[-1]}")


if __name__ == "__main__":
    main()
