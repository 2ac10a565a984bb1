"""How many of a known solution's single-unit neighbours still fold into the target: for the Eterna players'
disclosed Vienna 2 solution of each Eterna100-V2 puzzle, every unpaired site set to each other base and every
pair to each other pair (GC, CG, AU, UA, GU, UG), each refolded with ViennaRNA.

    python scripts/measure/robustness.py [--only 68,99] [--results data/benchmark_runs/*/*/results.jsonl]
    python scripts/measure/robustness.py --only 99 --branch 70 155

A solution whose neighbours nearly all fold elsewhere is a needle: a search that moves by such changes sees it
only from next to it. With ``--results``, each puzzle's line also says in how many of the recorded runs our
designer solved it.

Session 35 (all 99, about half an hour on one shared core, against the 40 60 s runs of rules G'' and S): a
median of 77% of the neighbours fold for the 78 puzzles solved in all 40 runs, 50% for the 14 solved in some, 38%
for the 7 never solved (#68: 43%). See docs/design.md, "Repeats".

``--branch I J`` measures the branch closed by the pair (I, J) (0-based sites) of each puzzle named by ``--only``,
with the players' solution cut to it (where it folds into the branch alone). Session 38: #99's middle branch
(``--only 99 --branch 70 155``, 86 nt) 9.6% of 230 (22; 45 of its 58 units keep no change), its zigzag branch
(``--branch 10 68``, 59 nt) 30.4% of 158 (48). See docs/design.md, "#99's middle branch".
"""

from __future__ import annotations

import argparse
import collections
import statistics
from pathlib import Path

from rnadesign.benchmark.datasets import eterna100_v2_solutions
from rnadesign.benchmark.records import check_records
from rnadesign.files import read_json_lines
from rnadesign.model.alphabet import PAIRS
from rnadesign.model.folding import fold, hamming
from rnadesign.model.structure import parse_structure


def neighbours(sequence: str, target: str) -> list[int]:
    """Sites off of every single-unit neighbour of ``sequence``."""
    pairs = parse_structure(target, warn=False).pairs
    off = []
    for i, j in enumerate(pairs):
        if j < 0:
            for base in "ACGU":
                if base != sequence[i]:
                    off.append(hamming(fold(sequence[:i] + base + sequence[i + 1 :])[0], target))
        elif j > i:
            for pair in PAIRS:
                if pair != sequence[i] + sequence[j]:
                    letters = list(sequence)
                    letters[i], letters[j] = pair
                    off.append(hamming(fold("".join(letters))[0], target))
    return off


def rigid_units(off: list[int], target: str) -> tuple[int, int]:
    """(units none of whose changes folds into ``target``, units), from ``off``, what :func:`neighbours` gave: a
    unit is an unpaired site or a pair, their changes listed in site order (3 for a site, 5 for a pair)."""
    pairs = parse_structure(target, warn=False).pairs
    sizes = [3 if j < 0 else 5 for i, j in enumerate(pairs) if j < 0 or j > i]
    rigid, at = 0, 0
    for size in sizes:
        rigid += all(off[at : at + size])
        at += size
    return rigid, len(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated puzzle numbers")
    parser.add_argument("--results", nargs="*", default=[], help="benchmark results.jsonl files")
    parser.add_argument("--branch", type=int, nargs=2, metavar=("I", "J"), help="the branch (I, J) of each puzzle")
    args = parser.parse_args()
    solved: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for path in args.results:
        for record in check_records(Path(path), read_json_lines(path)):
            if record["dataset"] == "eterna100-v2":
                solved[str(record["target_id"])][0] += bool(record["solved"])
                solved[str(record["target_id"])][1] += 1
    only = set(args.only.split(",")) if args.only else None
    for puzzle, (target, solution) in eterna100_v2_solutions().items():
        if (only is not None and puzzle not in only) or solution is None:
            continue
        if args.branch:
            i, j = args.branch
            target, solution = target[i : j + 1], solution[i : j + 1]
            parse_structure(target)  # refuses a span that is not a branch
        if fold(solution)[0] != target:
            print(f"#{puzzle:>3}: the players' solution does not fold into it", flush=True)
            continue
        off = neighbours(solution, target)
        kept = sum(d == 0 for d in off)
        missed = [d for d in off if d]
        ours = solved.get(puzzle)
        units = rigid_units(off, target)
        print(
            f"#{puzzle:>3} ({len(target)} nt): {kept / len(off):6.1%} of {len(off)} neighbours fold into it "
            f"({kept}); the others a median {statistics.median(missed) if missed else 0:g} sites off; "
            f"{units[0]} of its {units[1]} units keep no change"
            + (f"; ours solved in {ours[0]} of {ours[1]} runs" if ours else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
