"""How close to a known solution the search must start to find one: the Eterna players' Vienna 2 solution of an
Eterna100-V2 puzzle with K random units changed (an unpaired site to another base, or a pair to another pair),
given to the search (``search`` mode, shipped settings) as its only seed, once a seed.

    python scripts/measure/basin.py --puzzle 68 --changes 1 3 5 --seeds 1 2 3 4 --time-limit 60 [--branch 84 211]
        [--search-config '{"kt_scale": 0.25}']

``--branch I J`` designs the puzzle with the branch closed by the pair (I, J) (0-based) replaced by a 16-nt
hairpin, in the target and in the players' solution alike (``scripts/measure/stand_in.py``). Each line: the
start's sites off, the end's, the seconds, P(target) of the players' solution, of the start and of the end, and
how many units the end differs from the players' solution in. The search runs in this process: at most one
at a time per core, and its timing (folds a second) moves the outcomes from run to run.

Session 35, #68 reduced to 170 nt (``--branch 84 211``), seeds 1-6, 60 s: from one change the search solved 5 of
6 attempts, from three 1 of 6, from five 0 of 6 (2-8 off). For each of the three-change starts of seeds 1-5 some
order of reverting the changes raises P(target) at every step, yet a steepest ascent on it passes the solution
and climbs on to designs that do not fold (docs/design.md). Session 36, with ``--search-config '{"kt_scale": 0.25}'``
(the objective's ensemble at a quarter of kT), three changes, seeds 1-6: 2 of 6 solved, against 0 of 6 at kT beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time

from rnadesign.benchmark.datasets import eterna100_v2_solutions
from rnadesign.config import SearchConfig
from rnadesign.model.alphabet import PAIRS
from rnadesign.model.folding import fold, hamming
from rnadesign.model.metrics import ensemble_view
from rnadesign.model.structure import parse_structure
from rnadesign.run.settings import DesignSettings
from rnadesign.run.state import DesignRun
from rnadesign.search.ensemble import EnsembleSearch

STAND_IN = ("GGGGGCGAAAGCCCCC", "((((((....))))))")


def perturbed(solution: str, pairs: list[int], changes: int, rng: random.Random) -> str:
    """``solution`` with ``changes`` units drawn at random set to another base or pair."""
    letters = list(solution)
    units = [i for i, j in enumerate(pairs) if j < 0 or j > i]
    for i in rng.sample(units, changes):
        j = pairs[i]
        if j < 0:
            letters[i] = rng.choice([b for b in "ACGU" if b != letters[i]])
        else:
            letters[i], letters[j] = rng.choice([p for p in PAIRS if p != letters[i] + letters[j]])
    return "".join(letters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puzzle", required=True, help="Eterna100-V2 puzzle number")
    parser.add_argument("--changes", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--branch", type=int, nargs=2, metavar=("I", "J"), help="replace this branch by a hairpin")
    parser.add_argument("--search-config", default="{}", help="JSON: SearchConfig fields to change")
    args = parser.parse_args()
    target, solution = eterna100_v2_solutions().get(args.puzzle, ("", None))
    if solution is None:
        raise SystemExit(f"no disclosed players' solution of Eterna100-V2 puzzle {args.puzzle}")
    if args.branch:
        i, j = args.branch
        if parse_structure(target, warn=False).pairs[i] != j:
            raise SystemExit(f"({i}, {j}) is not a pair of the puzzle")
        target = target[:i] + STAND_IN[1] + target[j + 1 :]
        solution = solution[:i] + STAND_IN[0] + solution[j + 1 :]
    structure = parse_structure(target)
    if fold(solution)[0] != target:
        raise SystemExit("the players' solution does not fold into the target")
    reference = ensemble_view(solution, structure, defects=False).probability
    print(f"#{args.puzzle}, {len(target)} nt; P(target) of the players' solution {reference:.2g}")
    settings = DesignSettings(mode="search", time_limit=args.time_limit, progress_every=math.inf)
    units = [i for i, j in enumerate(structure.pairs) if j < 0 or j > i]
    for changes in args.changes:
        for seed in args.seeds:
            start = perturbed(solution, list(structure.pairs), changes, random.Random(seed * 1000 + changes))
            run = DesignRun(structure, settings, seed)
            search = EnsembleSearch(run, SearchConfig(**json.loads(args.search_config)))
            search.seed([start])
            began = time.perf_counter()
            search.run_until_done()
            end = run.best_sequence
            print(
                f"{changes} changes, seed {seed}: start {hamming(fold(start)[0], target)} off, "
                f"end {hamming(fold(end)[0], target)} off in {time.perf_counter() - began:.1f} s; "
                f"P start {ensemble_view(start, structure, defects=False).probability:.2g}, "
                f"end {ensemble_view(end, structure, defects=False).probability:.2g}; "
                f"the end differs from the players' in {sum(end[i] != solution[i] for i in units)} units",
                flush=True,
            )


if __name__ == "__main__":
    main()
