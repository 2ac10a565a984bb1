"""A long target's hierarchical start, step by step: for each part designed alone or join designed from its
halves, the sites it covers, the seconds it was given, when it started, the folds it took and how far its
design ended from its own structure (0: it folds).

    python scripts/measure/parts_split.py --puzzle 90 --time-limit 60 --seed 1

Session 27 (docs/design.md): the long targets that 60 s leaves unsolved spend their start differently. On
#90 (400 nt) a 96-nt part took its whole share (7.2 s) and ended 4 off, two joins ended 2 and 4 off, and the
two joins nearest the root got 0.06 s (the parts' half of the limit was spent); on #97 every part and join
folded at its first design (all ten steps within 0.7 s), leaving the whole target's search 53 s.
"""

from __future__ import annotations

import time

import one_puzzle

from rnadesign.search import hierarchy

STEPS: list[tuple[int, int, float, float, object]] = []


def main() -> None:
    parser = one_puzzle.arguments(__doc__, mode="hybrid", puzzle="90", time_limit=60.0)
    args = parser.parse_args()
    target = one_puzzle.target_of(args)
    original = hierarchy._part_run

    def recorded(run, part, lo, settings):
        sub = original(run, part, lo, settings)
        if sub is not None:
            STEPS.append((lo, len(part), settings.time_limit, time.perf_counter() - run.start, sub))
        return sub

    hierarchy._part_run = recorded  # type: ignore[assignment]
    result = one_puzzle.run(args, target)
    print(f"#{args.puzzle} ({len(target)} nt), {args.mode}, {args.time_limit:g} s, seed {args.seed}")
    print("sites        given s  start s  folds  distance")
    for lo, length, given, start, sub in STEPS:
        print(f"{lo + 1:4d}-{lo + length:<4d}  {given:8.2f} {start:8.2f} {sub.folds:6d}  {sub.best_distance:8d}")
    print(f"final distance {result.distance} in {result.time_s:.1f} s")


if __name__ == "__main__":
    main()
