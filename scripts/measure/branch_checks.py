"""Which branches of a loop fail a design, alone or two at a time? For each design of a target in benchmark
results files, every branch of the exterior loop (or of the multiloop closed by ``--loop I J``), and every two of
them, is set free while the rest of the sequence is held to the target (its pairs enforced, its other unpaired
sites kept unpaired: ViennaRNA hard constraints), and the design is folded so: a check fails when that fold is
not the target (ViennaRNA's tie-break decides equal energies, as in the benchmark's rule). A design whose whole
fold is the target passes every check (the target then has the least energy of every constrained set; where
another structure ties it, the constrained backtracking may pick that one, a failure by 0.0 kcal/mol), so a
failed check names branches that must change; a design that passes them all and still misses fails by three or
more branches at once.

    python scripts/measure/branch_checks.py data/benchmark_runs/*/*/results.jsonl --target 68

A branch is set free with the loop's unpaired sites on either side of it, up to the next branch. The reference
(the Eterna players' Vienna 2 solution of an Eterna100-V2 puzzle, or ``--reference SEQUENCE``) is checked beside
the designs.

Session 39, Eterna100-V2 #68 (282 nt; twelve exterior branches, the eleven 13-nt modules 0-5 and 7-11 and the
128-nt core 6; 12 checks of one branch and 66 of two; 27 s): each of the 56 unsolved designs on record fails 9 to
42 of the 66 checks of two (median 17.5), by up to 9.7 kcal/mol, most often a module at one end of the chain with
one at the other (the worst is 0+11 in 15 designs, 1+11 in 8), and 29 of them fail no single check: the fold
shows one bridge, the checks a web of conflicting module pairs. On #99 (``--loop 5 363``, ``--loop 9 203``) the
misses fail single branches: the trap lies inside them.
"""

from __future__ import annotations

import argparse
import itertools
import statistics

import RNA

from rnadesign.benchmark.datasets import eterna100_v2_solutions
from rnadesign.benchmark.records import target_records
from rnadesign.model.folding import fold, hamming
from rnadesign.model.structure import outer_pairs, parse_structure


def branch_sites(target: str, loop: tuple[int, int] | None) -> list[set[int]]:
    """For each branch of the loop, its sites and the loop's unpaired sites beside it (0-based)."""
    pairs = parse_structure(target, warn=False).pairs
    lo, hi = (0, len(target)) if loop is None else (loop[0] + 1, loop[1])
    branches = outer_pairs(pairs, lo, hi)
    out = []
    for k in range(len(branches)):
        left = branches[k - 1][1] + 1 if k else lo
        right = branches[k + 1][0] if k + 1 < len(branches) else hi
        out.append(set(range(left, right)))
    return out


def check(sequence: str, target: str, free: set[int]) -> tuple[bool, float]:
    """Whether the fold with only ``free`` unconstrained is the target, and E(target) - E(that fold)."""
    held = "".join("." if k in free else ("x" if c == "." else c) for k, c in enumerate(target))
    fc = RNA.fold_compound(sequence)
    fc.hc_add_from_db(held, RNA.CONSTRAINT_DB_DEFAULT | RNA.CONSTRAINT_DB_ENFORCE_BP)
    structure, energy = fc.mfe()
    return structure == target, fc.eval_structure(target) - energy


def checks(sequence: str, target: str, branches: list[set[int]]) -> tuple[list[int], list[tuple[int, int, float]]]:
    """The single branches that fail, and the failing pairs of branches with their margins."""
    singles = [k for k, sites in enumerate(branches) if not check(sequence, target, sites)[0]]
    failed = []
    for a, b in itertools.combinations(range(len(branches)), 2):
        ok, margin = check(sequence, target, branches[a] | branches[b])
        if not ok:
            failed.append((a, b, margin))
    return singles, failed


def report(label: str, sequence: str, target: str, branches: list[set[int]]) -> int:
    """Print one design's line; returns how many pairs of branches fail."""
    structure, _ = fold(sequence)
    singles, failed = checks(sequence, target, branches)
    worst = max((m for *_, m in failed), default=0.0)
    shown = ", ".join(f"{a}+{b} {m:.1f}" for a, b, m in sorted(failed, key=lambda x: -x[2])[:4])
    print(
        f"{label}: {hamming(structure, target)} off; single branches failing {singles or 'none'}; "
        f"pairs failing {len(failed)}, worst by {worst:.1f} kcal/mol{': ' + shown if shown else ''}"
    )
    return len(failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="benchmark results.jsonl files")
    parser.add_argument("--target", required=True, help="the target id in the results files")
    parser.add_argument("--loop", nargs=2, type=int, metavar=("I", "J"), help="the multiloop's closing pair, 0-based")
    parser.add_argument("--reference", help="a solution to check beside the designs")
    args = parser.parse_args()
    records = target_records(args.results, args.target, unsolved=True)
    if not records:
        raise SystemExit(f"no unsolved record of target {args.target} in the results files")
    target = records[0]["target"]
    loop = tuple(args.loop) if args.loop else None
    if loop is not None and not (
        0 <= loop[0] < len(target) and parse_structure(target, warn=False).pairs[loop[0]] == loop[1]
    ):
        raise SystemExit(f"{loop} is not a pair of the target")
    branches = branch_sites(target, loop)
    if len(branches) < 2:
        raise SystemExit("the loop has fewer than two branches; name a multiloop's closing pair with --loop I J")
    n = len(branches)
    print(f"{n} branches, {n} single checks and {n * (n - 1) // 2} of two")
    reference = args.reference
    if reference is None and records[0]["dataset"] == "eterna100-v2":
        reference = eterna100_v2_solutions().get(args.target, ("", None))[1]
    if reference:
        report("reference", reference, target, branches)
    counts = []
    for record in sorted(records, key=lambda r: r["distance"]):
        label = f"{record['method']} seed {record.get('seed', '?')} run {record['run']}"
        counts.append(report(label, record["sequence"], target, branches))
    print(
        f"{len(counts)} unsolved designs: pairs failing median {statistics.median(counts)}, "
        f"range {min(counts)}-{max(counts)}; with none failing {sum(c == 0 for c in counts)}"
    )


if __name__ == "__main__":
    main()
