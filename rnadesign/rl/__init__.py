"""The reinforcement-learning part: the gymnasium environment and its registration, the policy
networks (torch and a numpy copy for sampling), policy files and the shipped weights (``models/``),
the PPO agent, meta-training and its callbacks, and distributed training. The only folder that
imports torch, stable-baselines3 and gymnasium; it never imports the search or the runners."""

__all__ = [
    "agent",
    "callbacks",
    "distributed",
    "env",
    "meta",
    "numpy_policy",
    "policies",
    "policy_file",
    "registration",
]
