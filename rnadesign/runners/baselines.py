"""Designers without an agent, run through the same design loop and benchmark as the modes that have one."""

from __future__ import annotations

import multiprocessing
import random

from ..model.folding import FoldingModel
from ..run.state import DesignRun

__all__ = ["run_rnainverse"]


def _inverse_fold(connection, start: str, target: str, seed: int, model: FoldingModel) -> None:
    import RNA

    from ..model.folding import make_global_default

    make_global_default(model)  # RNAinverse takes no model; this child is the only process changed
    RNA.init_rand(seed % 2**32)
    sequence, _ = RNA.inverse_fold(start, target)
    connection.send(sequence)
    connection.close()


def _inverse_fold_within(start: str, target: str, seed: int, seconds: float, model: FoldingModel) -> str | None:
    """One RNAinverse call in a forked child, killed after ``seconds`` (one call cannot be interrupted,
    and on long targets it runs for minutes). None when it did not finish in time."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_inverse_fold, args=(sender, start, target, seed, model), daemon=True)
    child.start()
    sender.close()
    try:
        return receiver.recv() if receiver.poll(max(seconds, 0.0)) else None
    except EOFError:  # the child died (e.g. out of memory): no design from this start
        return None
    finally:
        child.kill()
        child.join()
        receiver.close()


def run_rnainverse(run: DesignRun, agent: None = None, policy: None = None) -> None:
    """ViennaRNA's inverse folding (RNAinverse) from random starts, restarted until solved or out of time.

    RNAinverse designs and its designs are judged (folded) under ``settings.folding``. Each call runs in
    a child process that is stopped when the time is up.

    Under constraints the start draws only allowed bases, the bases the mask fixes are written lower
    case (RNAinverse keeps those), and what it returns is projected onto the mask and repaired (GC
    window, motifs) before it is judged: RNAinverse knows nothing else of the constraints.
    """
    from ..model.folding import hamming

    rng = random.Random(run.seed)
    target = run.target.dot_bracket
    clock = run.clock
    constraints = run.constraints
    while not run.should_stop():
        if constraints is None:
            start = "".join(rng.choice("ACGU") for _ in target)
        else:
            drawn = constraints.project("".join(rng.choice(bases) for bases in constraints.allowed))
            start = "".join(b.lower() if len(a) == 1 else b for b, a in zip(drawn, constraints.allowed))
        budget = clock.left() - (1 + clock.reserve_folds) * clock.fold_s  # room to judge what it returns
        sequence = _inverse_fold_within(start, target, rng.randrange(2**32), budget, run.settings.folding)
        run.episodes += 1
        if sequence is None or not clock.fits_fold():
            continue
        if constraints is not None:
            sequence = constraints.repair(constraints.project(sequence.upper()), rng)
        distance = hamming(clock.fold(sequence, run.settings.folding)[0], target)
        run.folds += 1
        run.record(sequence, distance)
