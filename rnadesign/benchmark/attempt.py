"""One benchmark attempt, run as its own process: ``python -m rnadesign.benchmark.attempt SPEC``.

SPEC is a JSON object with ``target``, ``method`` (a design mode), ``time_limit``, ``seed``,
``launch`` (the parent's wall-clock time when it started this process), ``config``,
``folding`` and ``constraints`` (:meth:`~rnadesign.model.constraints.DesignConstraints.to_dict`, or null).
Every time the best design improves a line ``{"best": {...}}`` is printed, and at the
end ``{"result": {...}}``, so the parent keeps the best design even when it has to kill the
attempt at the time limit. Times count from ``launch``: interpreter start-up, imports and model
loading included.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _emit(kind: str, record: dict) -> None:
    print(json.dumps({kind: record}), flush=True)


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    launch = float(spec["launch"])
    deadline = launch + float(spec["time_limit"])
    from ..config import SearchConfig
    from ..design import DesignSettings, design
    from ..model.constraints import DesignConstraints
    from ..model.folding import FoldingModel

    # One thread: the runner starts this process with OMP_NUM_THREADS=1, which torch follows.
    offset = time.time() - launch
    settings = DesignSettings(
        mode=spec["method"],
        time_limit=max(deadline - time.time(), 0.01),
        seed=int(spec["seed"]),
        folding=FoldingModel(**spec.get("folding", {})),
        progress_every=float("inf"),
        restart_timeout=spec.get("restart_timeout"),
        policy=spec.get("policy"),
        search=SearchConfig(**spec.get("search", {})),
        constraints=DesignConstraints.from_dict(spec.get("constraints")),
        **({} if spec.get("stall_restart") is None else {"stall_restart": spec["stall_restart"]}),
    )

    def on_best(sequence: str, distance: int, _: float) -> None:
        _emit("best", {"sequence": sequence, "distance": distance, "time_s": round(time.time() - launch, 3)})

    result = design(spec["target"], settings, spec.get("config"), on_best=on_best)
    if result.sequence:
        _emit(
            "result",
            {
                "sequence": result.sequence,
                "distance": result.distance,
                "time_s": round(offset + result.time_s, 3),
                "episodes": result.episodes,
                "restarts": result.restarts,
                "lineages": result.lineages,
                "best_lineage": result.best_lineage,
                "folds": result.folds,
            },
        )
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # The result is out: skip the interpreter's teardown, which frees every design the search has seen
    # (hundreds of thousands in a long attempt) while the parent's clock, which stops at our exit, runs on.
    os._exit(code)
