"""Designers without an agent, run through the same design loop and benchmark as the modes that have one."""

from __future__ import annotations

import random
import time

from .state import DesignRun

__all__ = ["run_rnainverse"]


def run_rnainverse(run: DesignRun, agent: None = None, policy: None = None) -> None:
    """ViennaRNA's inverse folding (RNAinverse) from random starts, restarted until solved or out of time.

    RNAinverse itself uses ViennaRNA's default energy model; its designs are judged (folded) with
    ``settings.folding``. One RNAinverse call cannot be interrupted, so on long targets a call that
    starts before the deadline may end after it.
    """
    import RNA

    from .folding import fold, hamming

    RNA.init_rand(run.seed % 2**32)
    rng = random.Random(run.seed)
    target = run.target.dot_bracket
    while not run.done and time.perf_counter() < run.deadline:
        start = "".join(rng.choice("ACGU") for _ in target)
        sequence, _ = RNA.inverse_fold(start, target)
        distance = hamming(fold(sequence, run.settings.folding)[0], target)
        run.folds += 1
        run.episodes += 1
        run.record(sequence, distance)
