"""autorl: the Auto-RL outer loop (BOHB over architecture, state and training hyperparameters).

Imports :mod:`rnadesign`; never imported by it. Needs the ``autorl`` extra (hpbandster, ConfigSpace).

Modules by role: :mod:`~autorl.space` (search space), :mod:`~autorl.worker` (an evaluation, the task,
the worker role), :mod:`~autorl.master` (settings, the run directory, the BOHB master),
:mod:`~autorl.local` (a whole run on one machine), :mod:`~autorl.nameserver` (secret, nameserver and
its address file), :mod:`~autorl.resultlog` (the live log), :mod:`~autorl.runfile` (``run.json``),
:mod:`~autorl.report` (reading a run back), :mod:`~autorl.analyze` (what mattered:
importance, budget correlation), :mod:`~autorl.compat` (hpbandster fixes),
:mod:`~autorl.errors` (:class:`~autorl.errors.AutoRLError`).
"""

__all__ = [
    "analyze",
    "compat",
    "errors",
    "local",
    "master",
    "nameserver",
    "report",
    "resultlog",
    "runfile",
    "space",
    "worker",
]
