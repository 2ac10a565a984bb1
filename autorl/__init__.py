"""autorl: the Auto-RL outer loop (BOHB over architecture, state and training hyperparameters).

Imports :mod:`rnadesign`; never imported by it. Needs the ``autorl`` extra (hpbandster, ConfigSpace).
"""

__all__ = ["compat", "report", "run", "space", "worker"]
