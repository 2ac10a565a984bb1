"""Does a better one-step proposal help the search? Each child is drawn ``--children`` times and only the best
by an energy score is evaluated: the fall of E(target) plus ``--decoy-weight`` times the rise of the energy of
the parent's MFE structure (both evaluated, not folded; ``energy_screen.py`` measures how well the score
ranks the children that beat their parent). Runs the puzzles with that screen and then without it (one
child, the shipped search), each on ``--jobs`` processes, and prints the solved counts and distances.

    python scripts/measure/best_of_k.py --children 8 --time-limit 30 --seed 1

Session 24 (docs/design.md): on the 14 contested puzzles below at 30 s, 7 of 14 with 8 children against 8
without (seed 1), 6 against 6 (seed 2).
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.config import SearchConfig
from rnadesign.design import DesignSettings, design
from rnadesign.model.folding import energies
from rnadesign.search import ensemble

CONTESTED = "57,60,64,65,71,74,76,79,80,81,87,89,91,97"
_mutate = ensemble.EnsembleSearch.mutate


def _screened(children: int, decoy_weight: float):
    def mutate(self: ensemble.EnsembleSearch, parent: ensemble.Candidate) -> str | None:
        drawn: list[str] = []
        for _ in range(children):
            child = _mutate(self, parent)
            if child is not None and child not in drawn and child not in self.seen:
                drawn.append(child)
        if len(drawn) <= 1:
            return drawn[0] if drawn else _mutate(self, parent)
        model, structures = self.run.settings.folding, [self.target.dot_bracket, parent.view.structure]
        on_target, on_decoy = energies(parent.sequence, structures, model)
        scores = []
        for child in drawn:
            target_energy, decoy_energy = energies(child, structures, model)
            scores.append(-(target_energy - on_target) + decoy_weight * (decoy_energy - on_decoy))
        return drawn[int(np.argmax(scores))]

    return mutate


def _design(task: tuple[str, int, float, str, int, float, str]) -> int:
    target, seed, limit, mode, children, decoy_weight, config = task
    if children > 1:  # each worker process patches its own search
        ensemble.EnsembleSearch.mutate = _screened(children, decoy_weight)  # type: ignore[method-assign]
    else:
        ensemble.EnsembleSearch.mutate = _mutate  # type: ignore[method-assign]
    settings = DesignSettings(mode=mode, time_limit=limit, seed=seed, search=SearchConfig(**json.loads(config)))
    return design(target, settings).distance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puzzles", default=CONTESTED, help="Eterna100-V2 puzzle numbers, comma-separated")
    parser.add_argument("--children", type=int, default=8)
    parser.add_argument("--decoy-weight", type=float, default=0.5)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "search"])
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--search-config", default="{}", help="JSON: SearchConfig fields")
    args = parser.parse_args()
    texts = {t.name: t.text for t in load_dataset("eterna100-v2").targets}
    puzzles = args.puzzles.split(",")
    for children in (args.children, 1):
        tasks = [
            (texts[p], args.seed, args.time_limit, args.mode, children, args.decoy_weight, args.search_config)
            for p in puzzles
        ]
        with ProcessPoolExecutor(args.jobs) as pool:
            distances = list(pool.map(_design, tasks))
        solved = sum(d == 0 for d in distances)
        shown = " ".join(f"#{p}:{d}" for p, d in zip(puzzles, distances))
        print(f"{children} children: solved {solved}/{len(puzzles)}  sites off: {shown}", flush=True)


if __name__ == "__main__":
    main()
