"""What a benchmark is: its specification (:class:`BenchmarkSpec`: method, budget, runs, seeds, shard), the
names of its files (results, shards, series) and reading its results back."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..config import SearchConfig
from ..errors import ConfigError
from ..files import read_json_lines
from ..model.constraints import DesignConstraints
from ..model.folding import DEFAULT_MODEL, FoldingModel, vienna_version
from ..modes import MODES
from .records import check_records

__all__ = [
    "METHODS",
    "BenchmarkSpec",
    "parse_shard",
    "read_results",
    "results_name",
    "series_id",
    "shard_attempts",
    "shard_label",
]

#: Methods the runner knows: every design mode (RNAinverse among them).
METHODS = list(MODES)

RESULTS = "results.jsonl"
_T = TypeVar("_T")


@dataclass(frozen=True)
class BenchmarkSpec:
    """What one benchmark command asks for."""

    method: str
    time_limit: float
    runs: int = 1
    jobs: int = 1
    seed: int = 0
    config: str | None = None
    """Preset name or JSON file for the design modes (default: the mode's preset)."""
    folding: FoldingModel = DEFAULT_MODEL
    only: tuple[str, ...] | None = None
    """Target ids to run (None: all); seeds stay those of the whole dataset."""
    stall_restart: float | None = None
    """``DesignSettings.stall_restart`` of the attempts (None: its default)."""
    restart_timeout: float | None = None
    """``DesignSettings.restart_timeout`` of the attempts."""
    policy: str | None = None
    """Policy file for the modes that use one (None: the one shipped with the package)."""
    search: SearchConfig = field(default_factory=SearchConfig)
    """The search of the modes that run one."""
    shard: tuple[int, int] | None = None
    """(K, N): run only the K-th of N interleaved parts of the attempts (1 <= K <= N), into its own file."""
    constraints: DesignConstraints | None = None
    """Constraints of every attempt, together with a target's own sequence constraint line (None: none)."""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if not self.time_limit > 0:
            raise ConfigError(f"time limit must be positive, got {self.time_limit}")
        if self.runs < 1 or self.jobs < 1:
            raise ConfigError("runs and jobs must be at least 1")
        if not 0 <= self.seed < 2**31:
            raise ConfigError(f"seed must be in [0, 2**31 - 1], got {self.seed}")
        if self.shard is not None and not (len(self.shard) == 2 and 1 <= self.shard[0] <= self.shard[1]):
            raise ConfigError(f"a shard is K/N with 1 <= K <= N, not {self.shard}")

    def series(self) -> dict[str, Any]:
        """Everything that changes an attempt's outcome, resolved (a preset's values, a policy file's
        digest): records are reused only by a command whose series is the same."""
        from ..design import DesignSettings
        from ..modes import get_mode
        from ..rl.policy_file import policy_path

        mode = get_mode(self.method)
        agent, policy = mode.resolve(self.config, self.policy)
        policy_digest = None
        if policy is not None:
            policy_digest = hashlib.sha256(policy_path(self.policy, mode.policy).read_bytes()).hexdigest()
        series: dict[str, Any] = {
            "method": self.method,
            "time_limit": self.time_limit,
            "seed": self.seed,
            "folding": self.folding.to_dict(),
            "agent": agent.to_dict() if agent is not None else None,
            "policy_sha256": policy_digest,
            "stall_restart": (DesignSettings.stall_restart if self.stall_restart is None else self.stall_restart)
            if mode.stall_restart
            else None,
            "restart_timeout": self.restart_timeout,
            "search": dataclasses.asdict(mode.search_config(self.search)) if mode.searches else None,
            "vienna_version": vienna_version(),
        }
        # Only when set, so that the series of unconstrained runs keep the keys they were recorded under.
        if self.constraints is not None and self.constraints.active:
            series["constraints"] = self.constraints.to_dict()
        return series


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N), 1 <= K <= N (SLURM: ``--shard $SLURM_ARRAY_TASK_ID/N`` with ``--array=1-N``)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ConfigError(f"a shard is K/N with 1 <= K <= N, e.g. 2/8, not {text!r}")
    return int(match[1]), int(match[2])


def shard_label(shard: tuple[int, int]) -> str:
    return f"{shard[0]}/{shard[1]}"


def results_name(shard: tuple[int, int] | None = None) -> str:
    """The results file of a whole benchmark, or of one shard."""
    return RESULTS if shard is None else f"results-shard-{shard[0]}-of-{shard[1]}.jsonl"


def shard_attempts(attempts: list[_T], shard: tuple[int, int] | None) -> list[_T]:
    """Shard K of N: attempts K-1, K-1+N, K-1+2N, ... of the full list (interleaved, so every shard
    gets its share of long and short targets; the same list gives the same shards)."""
    return attempts if shard is None else attempts[shard[0] - 1 :: shard[1]]


def series_id(series: dict[str, Any]) -> str:
    """A short name for a series: the start of the SHA-256 of its canonical JSON."""
    return hashlib.sha256(json.dumps(series, sort_keys=True).encode()).hexdigest()[:12]


def read_results(out: Path, shard: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """All records in ``out/results.jsonl`` (or a shard's file); a torn last line (from a kill) is ignored.

    Raises:
        CorruptFileError: a line that is not a record of the right fields and types, or an attempt recorded
            twice (file, line and field named; :func:`.records.check_records`).
    """
    path = Path(out) / results_name(shard)
    return check_records(path, read_json_lines(path))
