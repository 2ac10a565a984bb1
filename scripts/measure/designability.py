"""Which targets of a set no sequence can fold into under the energy model, with the proof for each.

The proofs are :mod:`rnadesign.model.designability`'s (exact for ViennaRNA's model): loops ViennaRNA's fold
cannot form (confirmed here by a fold with every target pair enforced), and lone pairs across a one-base
bulge that lose on every sequence (the least energy difference over every assignment of their bases).

Usage:
    python scripts/measure/designability.py rfam-taneda
    python scripts/measure/designability.py eterna100-v2 --all     # also the bounds that do not prove anything

Prints one line per target with a proof, and the count.
"""

from __future__ import annotations

import argparse
import sys
import time

import RNA

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.model.designability import bulged_lone_pairs, gc_sequence, lone_pair_bound, undesignable
from rnadesign.model.structure import Structure, parse_structure


def enforced_fold_builds(target: Structure) -> bool:
    """Whether ViennaRNA's fold, with every target pair enforced, returns the target (GC pairs, A loops)."""
    fc = RNA.fold_compound(gc_sequence(target))
    fc.hc_add_from_db(target.dot_bracket, RNA.CONSTRAINT_DB_ENFORCE_BP | RNA.CONSTRAINT_DB_DEFAULT)
    structure, _ = fc.mfe()
    return structure == target.dot_bracket


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", help="a dataset name (rfam-taneda, eterna100-v2, ...) or a file of targets")
    parser.add_argument("--only", help="comma-separated target ids")
    parser.add_argument("--all", action="store_true", help="also print the lone-pair bounds that prove nothing")
    args = parser.parse_args(argv)
    dataset = load_dataset(args.dataset)
    only = set(args.only.split(",")) if args.only else None
    start = time.perf_counter()
    proven = 0
    for entry in dataset.targets:
        if only is not None and entry.name not in only:
            continue
        target = parse_structure(entry.text, warn=False)
        reasons = undesignable(target)
        if target.unfoldable_loops() and enforced_fold_builds(target):
            reasons.append("BUT the fold with every target pair enforced builds it: check the loop limits")
        if reasons:
            proven += 1
            print(f"{dataset.name} #{entry.name} ({len(target)} nt): " + "; ".join(reasons))
        elif args.all:
            for motif in bulged_lone_pairs(target):
                bound, _ = lone_pair_bound(gc_sequence(target), target, motif)
                print(
                    f"{dataset.name} #{entry.name}: the lone pair {motif[0] + 1}-{motif[1] + 1} across a one-base "
                    f"bulge can win: E(target) - E(without it) reaches {bound:+.2f} kcal/mol"
                )
    print(
        f"{proven} target(s) proven undesignable under ViennaRNA {RNA.__version__}, Turner 2004, dangles 2 "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
