"""The environment's old address, kept as an alias: ``gym.make("rnadesign.env:RnaDesign-v0")`` and
``rnadesign.env.RnaDesignEnv`` keep working. The environment lives in :mod:`rnadesign.rl.env`."""

from .rl.env import ENV_ID, RnaDesignEnv

__all__ = ["ENV_ID", "RnaDesignEnv"]
