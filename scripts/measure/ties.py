"""Which solutions win only by ViennaRNA's tie-break: the structures at a design's minimum free energy, for the
Eterna players' disclosed Vienna 2 solutions of Eterna100-V2 and (with ``--results``) for the solved designs in
benchmark results files.

    python scripts/measure/ties.py [--results data/benchmark_runs/*/*/results.jsonl]

``RNA.fold`` returns one structure of minimum free energy; when several share it (energies are integers in
dcal/mol, so ties are exact), the order of ViennaRNA's backtracking picks which. A target that is one of several
is "solved" under the benchmark's rule (MFE structure == target), but only through that order: another version
or another backtracking rule could return a tied decoy. With n structures at the MFE such a design has
P(target) at most 1/n, and the decoys tied with it are not beaten by any margin.

Session 35: 9 of the 99 disclosed player solutions are tie wins, among them three of the five puzzles no
published algorithm had solved: #68 (16 structures at the MFE), #90 (256) and #99 (2); #86's is a unique MFE and
#100's is withheld.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

from rnadesign.benchmark.datasets import eterna100_v2_solutions
from rnadesign.benchmark.records import check_records
from rnadesign.files import read_json_lines
from rnadesign.model.folding import fold, hamming, structures_at_mfe


def players() -> None:
    disclosed = tied = 0
    for puzzle, (target, solution) in eterna100_v2_solutions().items():
        if solution is None:
            continue
        disclosed += 1
        if fold(solution)[0] != target:
            print(f"#{puzzle}: the player solution does not fold into the puzzle")
            continue
        at_mfe = structures_at_mfe(solution)
        if len(at_mfe) > 1:
            tied += 1
            off = sorted({hamming(s, target) for s in at_mfe if s != target})
            print(
                f"#{puzzle:>3} ({len(target)} nt): {len(at_mfe)} structures at the MFE, "
                f"the others {off[0]}-{off[-1]} sites off"
            )
    print(f"{tied} of {disclosed} disclosed player solutions win by the tie-break")


def designs(paths: list[str]) -> None:
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for path in paths:
        for record in check_records(Path(path), read_json_lines(path)):
            if record["dataset"] == "eterna100-v2" and record["solved"]:
                counts[str(record["target_id"])][0 if record.get("solved_unique") else 1] += 1
    only = sorted((t for t, (unique, tie) in counts.items() if unique == 0), key=int)
    some = sorted((t for t, (unique, tie) in counts.items() if unique and tie), key=int)
    print(
        f"our solved Eterna100-V2 designs: {len(counts)} puzzles solved; solved only by ties: "
        f"{', '.join('#' + t for t in only) or 'none'}; by ties and uniquely: {len(some)} puzzles"
    )
    for t in only:
        print(f"  #{t}: {counts[t][1]} tied solutions, none unique")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", nargs="*", default=[], help="benchmark results.jsonl files")
    args = parser.parse_args()
    players()
    if args.results:
        designs(args.results)


if __name__ == "__main__":
    main()
