"""How one design run is budgeted and seeded: :class:`DesignSettings`, held by the run's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import SearchConfig
from ..errors import ConfigError
from ..model.constraints import DesignConstraints
from ..model.folding import DEFAULT_MODEL, FoldingModel

__all__ = ["DEFAULT_MODE", "DesignSettings"]

#: What `rnadesign design` and `rnadesign benchmark` use when no mode is named (measured best: README).
DEFAULT_MODE = "hybrid"


@dataclass(frozen=True)
class DesignSettings:
    """How one design run is budgeted and seeded."""

    mode: str = DEFAULT_MODE
    """Design mode, one of :data:`~rnadesign.modes.MODES` (checked when the run starts: the registry sits
    above the run core)."""
    time_limit: float = 60.0
    """Wall-clock seconds for the whole design of one target."""
    num_solutions: int = 1
    """Stop after this many distinct solutions."""
    restart_timeout: float | None = None
    """Learning modes: start a fresh agent when this many seconds pass without a new solution (None: never)."""
    stall_restart: float = 20.0
    """``learna`` mode: start a fresh agent when its own designs have not improved for this many seconds
    while staying worse than the best design found (by local search or an earlier agent): PPO has then
    settled in a poorer basin than search already reached. 0 turns it off. Measured with
    ``scripts/measure/learna_taneda.py``; modes without ``stall_restart`` in the registry ignore it."""
    seed: int | None = None
    """Seeds Python, NumPy, torch and the environment; None draws a fresh seed."""
    folding: FoldingModel = DEFAULT_MODEL
    """The energy model designs are folded with."""
    progress_every: float = 5.0
    """Seconds between progress lines (logged at INFO on the ``rnadesign.design`` logger)."""
    refine_share: float = 0.5
    """Most of the elapsed time spent refining designs by local search (0 turns it off)."""
    policy: str | Path | None = None
    """Pre-trained policy file for the modes that use one (None: the one shipped with the package)."""
    sample_batch: int = 16
    """Episodes sampled per policy call in ``meta-learna`` mode."""
    search: SearchConfig = field(default_factory=SearchConfig)
    """The ensemble-aware search of the ``hybrid`` and ``search`` modes."""
    constraints: DesignConstraints | None = None
    """Sequence constraint, GC window, forbidden motifs, G-U rule: a design counts as solved only if it
    satisfies them too (None, or constraints that constrain nothing: every mode runs as without them)."""

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ConfigError(f"time_limit must be positive, got {self.time_limit}")
        if self.num_solutions < 1:
            raise ConfigError(f"num_solutions must be at least 1, got {self.num_solutions}")
        if self.restart_timeout is not None and not self.restart_timeout > 0:
            raise ConfigError(f"restart_timeout must be positive, got {self.restart_timeout}")
        if not self.stall_restart >= 0:
            raise ConfigError(f"stall_restart must be 0 (off) or positive, got {self.stall_restart}")
        if not 0 <= self.refine_share < 1:
            raise ConfigError(f"refine_share must be in [0, 1), got {self.refine_share}")
        if self.seed is not None and not (isinstance(self.seed, int) and 0 <= self.seed < 2**32):
            raise ConfigError(f"seed must be an integer in [0, 2**32), got {self.seed!r}")
        if self.sample_batch < 1:
            raise ConfigError(f"sample_batch must be at least 1, got {self.sample_batch}")
        if self.constraints is not None and not isinstance(self.constraints, DesignConstraints):
            raise ConfigError(f"constraints must be DesignConstraints, got {type(self.constraints).__name__}")
