"""Write generated structures with the features that make design hard (``rnadesign.model.generate``),
one dot-bracket a line, for expert iteration's ``--train``:

    python scripts/hard_structures.py runs/hard-23.txt --count 4000 --seed 23 --min-length 40 --max-length 200
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnadesign.model.generate import random_structures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-length", type=int, default=40)
    parser.add_argument("--max-length", type=int, default=200)
    args = parser.parse_args(argv)
    structures = random_structures(args.count, seed=args.seed, min_length=args.min_length, max_length=args.max_length)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(s + "\n" for s in structures), encoding="utf-8")
    print(f"{len(structures)} structures of {args.min_length}-{args.max_length} nt written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
