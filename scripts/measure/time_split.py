"""Where one design's time goes: the start (the designer's start, a long target's parts and their finishes),
the search's loop, the finishes and restarts (the parts' own apart), and the children each offered.

    python scripts/measure/time_split.py --puzzle 90 --time-limit 60 --seed 1

Session 26 (docs/design.md): on #90 (400 nt) at 60 s, 47 of the 60 s went to the start (30 s to the
parts' searches), so the whole target's loop had 7.9 s and offered 22 children: no restart, and hardly
anything for the learning to act on.
"""

from __future__ import annotations

import time
from collections import defaultdict

import one_puzzle

from rnadesign.runners import hybrid
from rnadesign.search import ensemble, hierarchy

SECONDS: dict[str, float] = defaultdict(float)
COUNTS: dict[str, int] = defaultdict(int)


def timed(name: str, function, *, parts_apart: bool = False):
    """``function`` timed under ``name``; with ``parts_apart`` its calls within a long target's parts
    (their own searches) are counted under ``name`` + " (in the parts)"."""

    def wrapper(*args, **kwargs):
        label = name + (" (in the parts)" if parts_apart and IN_PARTS[0] else "")
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SECONDS[label] += time.perf_counter() - start
            COUNTS[label] += 1

    return wrapper


IN_PARTS = [False]


def parts(function):
    def wrapper(*args, **kwargs):
        IN_PARTS[0] = True
        try:
            return function(*args, **kwargs)
        finally:
            IN_PARTS[0] = False

    return wrapper


def main() -> None:
    parser = one_puzzle.arguments(__doc__, mode="hybrid", puzzle="90", time_limit=60.0)
    args = parser.parse_args()
    target = one_puzzle.target_of(args)
    # The loop's own time includes the finishes started from it; the start's time, those of the start.
    hybrid.seed_start = timed("start (designer's start, parts, their finishes)", hybrid.seed_start)
    hierarchy.hierarchical_start = timed("  of it: the parts (hierarchy)", parts(hierarchy.hierarchical_start))
    search = ensemble.EnsembleSearch
    search.run_until_done = timed(
        "search loop (its finishes and restarts too)", search.run_until_done, parts_apart=True
    )
    search._finish = timed("finishes", search._finish, parts_apart=True)
    search._reseed = timed("restarts (reseeding)", search._reseed, parts_apart=True)
    original_offer = search.offer_child

    def offer(self):
        COUNTS["children offered" + (" (in the parts)" if IN_PARTS[0] else "")] += 1
        return original_offer(self)

    search.offer_child = offer  # type: ignore[method-assign]
    start = time.perf_counter()
    result = one_puzzle.run(args, target)
    total = time.perf_counter() - start
    print(f"{args.mode} #{args.puzzle} ({len(target)} nt) seed {args.seed}: distance {result.distance}, {total:.1f} s")
    for name, seconds in SECONDS.items():
        print(f"  {name:60s} {seconds:6.1f} s  ({COUNTS[name]} calls)")
    for name in ("children offered", "children offered (in the parts)"):
        print(f"  {name}: {COUNTS[name]}")


if __name__ == "__main__":
    main()
