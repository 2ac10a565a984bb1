"""autorl: the Auto-RL outer loop (BOHB over architecture, state and training hyperparameters).

Imports :mod:`rnadesign`; never imported by it.
"""

__all__: list[str] = []
