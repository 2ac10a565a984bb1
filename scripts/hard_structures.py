"""Write generated structures with the features that make design hard (``rnadesign.model.generate``),
one dot-bracket a line, for expert iteration's ``--train``:

    python scripts/hard_structures.py runs/hard-23.txt --count 4000 --seed 23 --min-length 40 --max-length 200

Structures :mod:`rnadesign.model.designability` proves no sequence folds into are left out (a designer
spends its whole limit on each and teaches nothing; session 27 found 61 of the 211 that ei-3 left unsolved
at 10 s proven so, most of them a two-pair stem around a short hairpin in the exterior loop), and more are
drawn in their place; ``--keep-undesignable`` keeps them (the output of sessions before 27).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnadesign.model.designability import undesignable
from rnadesign.model.generate import random_structures
from rnadesign.model.structure import parse_structure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-length", type=int, default=40)
    parser.add_argument("--max-length", type=int, default=200)
    parser.add_argument("--keep-undesignable", action="store_true", help="keep structures proven undesignable")
    args = parser.parse_args(argv)
    draws, kept, dropped = args.count, [], 0
    while len(kept) < args.count:
        # The first draws of a larger batch are the smaller batch's: only the new ones are checked, and the
        # output is reproducible.
        structures = random_structures(draws, seed=args.seed, min_length=args.min_length, max_length=args.max_length)
        if args.keep_undesignable:
            kept = structures
            break
        for structure in structures[len(kept) + dropped :]:
            if undesignable(parse_structure(structure, warn=False)):
                dropped += 1
            else:
                kept.append(structure)
                if len(kept) == args.count:
                    break
        draws *= 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(s + "\n" for s in kept), encoding="utf-8")
    print(
        f"{len(kept)} structures of {args.min_length}-{args.max_length} nt written to {args.out}"
        + (f" ({dropped} drawn among them proven undesignable and left out)" if dropped else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
