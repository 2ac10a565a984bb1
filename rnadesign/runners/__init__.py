"""One module per family of design modes, each a ``runner(run, agent, policy)`` named in the mode
registry (:mod:`rnadesign.modes`): ``sampling`` (meta-learna, policy), ``learning`` (learna,
meta-learna-adapt), ``hybrid`` (hybrid, search) and ``baselines`` (rnainverse). The only place the
RL part and the search meet."""

__all__ = ["baselines", "hybrid", "learning", "sampling"]
