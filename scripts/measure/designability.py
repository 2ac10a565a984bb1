"""Which targets of a set no sequence can fold into under the energy model, with the proof for each.

The proofs are :mod:`rnadesign.model.designability`'s (exact for ViennaRNA's model): loops ViennaRNA's fold
cannot form (confirmed here by a fold with every target pair enforced), lone pairs across a one-base
bulge and helices of one or two pairs that lose on every sequence (the least energy difference over every
assignment of the bases it depends on). ``--verify N`` checks every helix proof against ViennaRNA's own
evaluation of N random designs (every base drawn, every target pair canonical), and ``--climb N`` against
N designs hill-climbed to make the helix win (any base changed, pairs kept canonical, a change kept when
the difference does not grow): a proof that missed a base the difference depends on would be broken so.

Usage:
    python scripts/measure/designability.py rfam-taneda
    python scripts/measure/designability.py eterna100-v2 --all     # also the bounds that do not prove anything
    python scripts/measure/designability.py runs/hard.txt --limit 400000 --verify 100
    python scripts/measure/designability.py eterna100-v1 --verify 200 --climb 12

Session 27: of the 211 generated structures of at most 120 nt that ei-3's designer left unsolved in 10 s,
61 are proven at the default limit (20,000 assignments a helix, 2 s in all), 79 at 100,000 (50-90 s) and
93 at 400,000 (150 s); none of the 99 Eterna100-V2 puzzles with a disclosed player solution, nor any of
the 5,849 structures expert iteration solved (ei-1, ei-3), has a proof.

Session 31: the helix proof enumerates only the bases the difference depends on (a multiloop's inner
branches keep their terms when it merges; a loop's pairs count only with their bases on that loop's side).
It now proves Rfam-Taneda #11 (a two-pair helix between two multiloops, 0.90 kcal/mol) and Eterna100-V1
#52, #57, #86, #87, #90, #91 and #99, all seven among the 19 V1 puzzles Eterna lists as unsolved under
Vienna 2 (#67 too at 400,000). Of session 27's 211 unsolved generated structures, 86 are proven at the
default limit (6 s; 61 before) and 145 at 400,000 (290 s; 93 before); every earlier proof stands, and
every bound held on 20 random and 2 hill-climbed designs a helix (``--limit 400000 --verify 20 --climb 2``),
and on Eterna100-V1 on 200 and 12 (``--verify 200 --climb 12``). Still no proof falls on a V2 puzzle with
a disclosed player solution, nor on any of the 5,849 structures expert iteration solved (limit 100,000).

Prints one line per target with a proof, and the count.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import RNA

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.model import designability
from rnadesign.model.alphabet import PAIRS
from rnadesign.model.designability import bulged_lone_pairs, gc_sequence, lone_pair_bound, undesignable
from rnadesign.model.structure import Structure, parse_structure


def enforced_fold_builds(target: Structure) -> bool:
    """Whether ViennaRNA's fold, with every target pair enforced, returns the target (GC pairs, A loops)."""
    fc = RNA.fold_compound(gc_sequence(target))
    fc.hc_add_from_db(target.dot_bracket, RNA.CONSTRAINT_DB_ENFORCE_BP | RNA.CONSTRAINT_DB_DEFAULT)
    structure, _ = fc.mfe()
    return structure == target.dot_bracket


def verify(target: Structure, designs: int, rng: np.random.Generator, limit: int) -> int:
    """Check every helix proof of ``target`` on ``designs`` random designs: E(target) - E(without the helix)
    must never fall below the proof's bound (AssertionError naming the design otherwise). Returns the
    designs checked."""
    checked = 0
    for helix, bound in designability.losing_helices(target, limit=limit):
        i, j, _, _ = helix
        without = designability.without_helix(target, helix)
        for _ in range(designs):
            letters = _random_design(target, rng)
            difference = _difference(target, without, letters)
            assert difference >= bound - 1e-4, f"{target.dot_bracket}: helix {i + 1}-{j + 1}, {''.join(letters)}"
            checked += 1
    return checked


def _difference(target: Structure, without: str, letters: list[str]) -> float:
    """E(target) - E(without) on the design ``letters``, by ViennaRNA's own evaluation."""
    fc = RNA.fold_compound("".join(letters))
    return fc.eval_structure(target.dot_bracket) - fc.eval_structure(without)


def _random_design(target: Structure, rng: np.random.Generator) -> list[str]:
    letters = list(rng.choice(list("ACGU"), size=len(target)))
    for a, b in enumerate(target.pairs):
        if a < b:
            letters[a], letters[b] = PAIRS[rng.integers(len(PAIRS))]
    return letters


def climb(target: Structure, starts: int, rng: np.random.Generator, limit: int, steps: int = 1500) -> int:
    """Check every helix proof of ``target`` against designs hill-climbed from ``starts`` random ones to
    lower E(target) - E(without the helix): a base (or a pair, kept canonical) is redrawn, four times in
    five within 12 sites of the helix, and kept when the difference does not grow. AssertionError when a
    design goes below the proof's bound. Returns the designs checked."""
    checked = 0
    for helix, bound in designability.losing_helices(target, limit=limit):
        i, j, _, _ = helix
        without = designability.without_helix(target, helix)
        near = [k for k in range(len(target)) if min(abs(k - i), abs(k - j)) <= 12]
        for _ in range(starts):
            letters = _random_design(target, rng)
            current = _difference(target, without, letters)
            for _ in range(steps):
                site = int(rng.choice(near)) if rng.random() < 0.8 else int(rng.integers(len(target)))
                trial = letters[:]
                partner = target.pairs[site]
                if partner >= 0:
                    a, b = min(site, partner), max(site, partner)
                    trial[a], trial[b] = PAIRS[rng.integers(len(PAIRS))]
                else:
                    trial[site] = "ACGU"[rng.integers(4)]
                found = _difference(target, without, trial)
                if found <= current:
                    letters, current = trial, found
            assert current >= bound - 1e-4, f"{target.dot_bracket}: helix {i + 1}-{j + 1}, {''.join(letters)}"
            checked += 1
    return checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", help="a dataset name (rfam-taneda, eterna100-v2, ...) or a file of targets")
    parser.add_argument("--only", help="comma-separated target ids")
    parser.add_argument("--all", action="store_true", help="also print the lone-pair bounds that prove nothing")
    parser.add_argument(
        "--limit", type=int, default=designability.HELIX_ASSIGNMENTS, help="most assignments tried for one helix"
    )
    parser.add_argument("--verify", type=int, default=0, help="random designs each helix proof is checked on")
    parser.add_argument("--climb", type=int, default=0, help="hill-climbed designs each helix proof is checked on")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    checked = climbed = 0
    dataset = load_dataset(args.dataset)
    only = set(args.only.split(",")) if args.only else None
    start = time.perf_counter()
    proven = 0
    for entry in dataset.targets:
        if only is not None and entry.name not in only:
            continue
        target = parse_structure(entry.text, warn=False)
        reasons = undesignable(target, helix_limit=args.limit)
        if target.unfoldable_loops() and enforced_fold_builds(target):
            reasons.append("BUT the fold with every target pair enforced builds it: check the loop limits")
        if args.verify:
            checked += verify(target, args.verify, rng, args.limit)
        if args.climb:
            climbed += climb(target, args.climb, rng, args.limit)
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
    if args.verify:
        print(f"{checked} random designs: every helix proof's bound held on ViennaRNA's own evaluation")
    if args.climb:
        print(f"{climbed} hill-climbed designs: every helix proof's bound held")
    print(
        f"{proven} target(s) proven undesignable under ViennaRNA {RNA.__version__}, Turner 2004, dangles 2 "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
