"""How many of a known solution's single-unit neighbours still fold into the target: for the Eterna players'
disclosed Vienna 2 solution of each Eterna100-V2 puzzle, every unpaired site set to each other base and every
pair to each other pair (GC, CG, AU, UA, GU, UG), each refolded with ViennaRNA.

    python scripts/measure/robustness.py [--only 68,99] [--results data/benchmark_runs/*/*/results.jsonl]

A solution whose neighbours nearly all fold elsewhere is a needle: a search that moves by such changes sees it
only from next to it. With ``--results``, each puzzle's line also says in how many of the recorded runs our
designer solved it.

Session 35 (all 99, about half an hour on one shared core, against the 40 60 s runs of rules G'' and S): a
median of 77% of the neighbours fold for the 78 puzzles solved in all 40 runs, 50% for the 14 solved in some, 38%
for the 7 never solved (#68: 43%). See docs/design.md, "Repeats".
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated puzzle numbers")
    parser.add_argument("--results", nargs="*", default=[], help="benchmark results.jsonl files")
    args = parser.parse_args()
    solved: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for path in args.results:
        for record in check_records(Path(path), read_json_lines(path)):
            if record["dataset"] == "eterna100-v2":
                solved[str(record["target_id"])][0] += bool(record["solved"])
                solved[str(record["target_id"])][1] += 1
    only = set(args.only.split(",")) if args.only else None
    for puzzle, (target, solution) in eterna100_v2_solutions().items():
        if (only is not None and puzzle not in only) or solution is None or fold(solution)[0] != target:
            continue
        off = neighbours(solution, target)
        kept = sum(d == 0 for d in off)
        missed = [d for d in off if d]
        ours = solved.get(puzzle)
        print(
            f"#{puzzle:>3} ({len(target)} nt): {kept / len(off):6.1%} of {len(off)} neighbours fold into it; "
            f"the others a median {statistics.median(missed) if missed else 0:g} sites off"
            + (f"; ours solved in {ours[0]} of {ours[1]} runs" if ours else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
