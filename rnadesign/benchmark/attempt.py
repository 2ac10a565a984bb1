"""One benchmark attempt, run as its own process: ``python -m rnadesign.benchmark.attempt SPEC``.

SPEC is a JSON object with ``target``, ``method``, ``time_limit``, ``seed``, ``launch`` (the
parent's wall-clock time when it started this process), ``config`` and ``folding``. Every time
the best design improves a line ``{"best": {...}}`` is printed, and at the end ``{"result": {...}}``,
so the parent keeps the best design even when it has to kill the attempt at the time limit.
Times count from ``launch``: interpreter start-up, imports and model loading included.
"""

from __future__ import annotations

import json
import sys
import time


def _emit(kind: str, sequence: str, distance: int, launch: float) -> None:
    record = {kind: {"sequence": sequence, "distance": distance, "time_s": round(time.time() - launch, 3)}}
    print(json.dumps(record), flush=True)


def _rnainverse(target: str, seed: int, deadline: float, launch: float, folding) -> None:
    """ViennaRNA's inverse folding from random starts, restarted until solved or out of time."""
    import random

    import RNA

    from ..folding import fold, hamming

    RNA.init_rand(seed % 2**32)
    rng = random.Random(seed)
    best = len(target) + 1
    while time.time() < deadline:
        start = "".join(rng.choice("ACGU") for _ in target)
        sequence, _ = RNA.inverse_fold(start, target)
        distance = hamming(fold(sequence, folding)[0], target)
        if distance < best:
            best = distance
            _emit("best", sequence, distance, launch)
        if distance == 0:
            break


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    launch = float(spec["launch"])
    deadline = launch + float(spec["time_limit"])
    from ..folding import FoldingModel

    folding = FoldingModel(**spec.get("folding", {}))
    if spec["method"] == "rnainverse":
        _rnainverse(spec["target"], int(spec["seed"]), deadline, launch, folding)
        return 0

    import torch

    torch.set_num_threads(1)
    from ..config import DESIGN_MODES, load_agent_config
    from ..design import DesignSettings, design

    agent = None  # the meta modes take theirs from the policy file
    if spec["method"] == "learna":
        agent = load_agent_config(spec.get("config") or DESIGN_MODES["learna"])
    budget = max(deadline - time.time(), 0.01)
    offset = time.time() - launch
    settings = DesignSettings(mode=spec["method"], time_limit=budget, seed=int(spec["seed"]), folding=folding)
    result = design(
        spec["target"],
        settings,
        agent,
        on_best=lambda seq, dist, _: _emit("best", seq, dist, launch),
    )
    if result.sequence:
        record = {
            "sequence": result.sequence,
            "distance": result.distance,
            "time_s": round(offset + result.time_s, 3),
            "episodes": result.episodes,
        }
        print(json.dumps({"result": record}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
