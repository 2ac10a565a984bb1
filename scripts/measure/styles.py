"""The search's styles (``SearchConfig.style``) on an Eterna100-V2 puzzle or one of its branches: each style
designs the target once a seed, and the line says the sites off at the end, the seconds, and the share of the
design's unpaired sites that are U (beside the players' Vienna 2 solution's share).

    python scripts/measure/styles.py --puzzle 99 --branch 10 68 --seeds 1 2 3 4 5 6 --time-limit 30
        [--styles designer pyrimidine alternate] [--mode search]

``--branch I J`` designs the branch closed by the pair (I, J) (0-based sites of the puzzle) alone. The designs
run one after the other in this process (``rnadesign.design``): at most one such script per core, and their
timing moves the outcomes from run to run.

Session 37, #99's zigzag branch (``--branch 10 68 --seeds 1 2 3 4 5 6 --time-limit 30``, 59 nt, which the players'
solution folds into alone), search mode: the designer's style solved 0 of 6 (all 2 off at 30 s), the pyrimidine
style 6 of 6 (0.7-6.8 s), ``alternate`` 6 of 6 (3.8-16.1 s). More in docs/design.md, "Zigzags and the
pyrimidine style".
"""

from __future__ import annotations

import argparse
import time

from rnadesign.benchmark.datasets import eterna100_v2_solutions
from rnadesign.config import SEARCH_STYLES, SearchConfig
from rnadesign.design import DesignSettings, design
from rnadesign.model.folding import fold, hamming
from rnadesign.model.structure import parse_structure


def u_share(sequence: str, structure: str) -> float:
    """Share of the unpaired sites of ``structure`` at which ``sequence`` has U."""
    loops = [i for i, c in enumerate(structure) if c == "."]
    return sum(sequence[i] == "U" for i in loops) / len(loops) if loops else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puzzle", required=True, help="Eterna100-V2 puzzle number")
    parser.add_argument("--branch", type=int, nargs=2, metavar=("I", "J"), help="design the branch (I, J) alone")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--styles", nargs="+", choices=SEARCH_STYLES, default=list(SEARCH_STYLES))
    parser.add_argument("--mode", choices=["search", "hybrid"], default="search")
    args = parser.parse_args()
    target, solution = eterna100_v2_solutions()[args.puzzle]
    if args.branch:
        i, j = args.branch
        target, solution = target[i : j + 1], solution[i : j + 1]
        parse_structure(target)  # refuses a span that is not a branch
    known = hamming(fold(solution)[0], target)
    share = u_share(solution, target)
    print(f"#{args.puzzle} {len(target)} nt; the players' solution folds {known} sites off, U in loops {share:.2f}")
    for style in args.styles:
        solved = 0
        for seed in args.seeds:
            config = SearchConfig(style=style)
            settings = DesignSettings(mode=args.mode, time_limit=args.time_limit, seed=seed, search=config)
            start = time.perf_counter()
            result = design(target, settings)
            seconds = time.perf_counter() - start
            off = hamming(fold(result.sequence)[0], target)  # folded again here
            solved += off == 0
            share = u_share(result.sequence, target)
            print(f"{style:10s} seed {seed}: {off} off, {seconds:.1f} s, U in loops {share:.2f}", flush=True)
        print(f"{style:10s} solved {solved} of {len(args.seeds)}", flush=True)


if __name__ == "__main__":
    main()
