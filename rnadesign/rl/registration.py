"""Registers the gymnasium id of :class:`~rnadesign.rl.env.RnaDesignEnv` (once, whoever asks first)."""

from __future__ import annotations

ENV_ID = "RnaDesign-v0"


def register_envs() -> None:
    from gymnasium.envs.registration import register, registry

    if ENV_ID not in registry:
        register(id=ENV_ID, entry_point="rnadesign.rl.env:RnaDesignEnv")
