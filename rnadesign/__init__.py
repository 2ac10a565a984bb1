"""rnadesign: design RNA sequences that fold into a target secondary structure."""

from gymnasium.envs.registration import register

from .config import AgentConfig, EnvConfig, NetworkConfig, PPOConfig, load_agent_config
from .folding import FoldingModel, check_design, fold, is_solved, is_unique_mfe
from .structure import InvalidStructureError, Structure, parse_structure

__version__ = "0.1.0"

__all__ = [
    "AgentConfig",
    "EnvConfig",
    "FoldingModel",
    "InvalidStructureError",
    "NetworkConfig",
    "PPOConfig",
    "Structure",
    "check_design",
    "fold",
    "is_solved",
    "is_unique_mfe",
    "load_agent_config",
    "parse_structure",
]

register(id="RnaDesign-v0", entry_point="rnadesign.env:RnaDesignEnv")
