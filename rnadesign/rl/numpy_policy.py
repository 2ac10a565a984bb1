"""Sample from a trained policy with numpy alone: this module imports no torch, stable-baselines3 or gymnasium.

``import torch`` alone costs over a second, which is all of the time that sampling designs for a
small target takes in the ``meta-learna`` mode. :class:`NumpyPolicy` re-implements the policy
branch of the network that :func:`rnadesign.rl.policies.policy_kwargs` builds for SB3's
``ActorCriticPolicy`` (features extractor -> ``mlp_extractor.policy_net`` -> ``action_net``) and
reads the weights from that policy's ``state_dict()``, under the same key names. The value branch
is not needed to sample and is ignored.

All arithmetic is float64 (the float32 weights convert exactly), so the logits agree with torch's
float32 forward pass to float32 rounding.

Keep this module's imports to numpy and the standard library: that is its reason to exist. (The
package's ``__init__`` still imports gymnasium to register the env id; torch and SB3 stay out.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the annotations only; rnadesign.config is light, but nothing here needs it at run time
    from ..config import AgentConfig

__all__ = ["N_ACTIONS", "N_SEQUENCE_SYMBOLS", "N_STRUCTURE_SYMBOLS", "NumpyPolicy"]

# These mirror rnadesign/env.py (importing it would import gymnasium); tests/test_numpy_policy.py
# asserts that they agree.
N_STRUCTURE_SYMBOLS = 4
"""Codes of the structure channel: ``.``, ``(``, ``)``, padding."""
N_SEQUENCE_SYMBOLS = 5
"""Codes of the sequence channel: not yet placed, A, C, G, U."""
N_ACTIONS = 4
"""The env's ``Discrete(4)`` action space."""

# The NetworkConfig fields this module implements. A field added to NetworkConfig later is a layer
# or option we know nothing about: supports() then says False, so callers fall back to torch
# instead of sampling from a silently different network.
_IMPLEMENTED_NETWORK_FIELDS = frozenset(
    {
        "embedding_size",
        "conv_radius1",
        "conv_channels1",
        "conv_radius2",
        "conv_channels2",
        "num_lstm_layers",
        "lstm_units",
        "num_fc_layers",
        "fc_units",
    }
)

_FEATURES_PREFIXES = ("pi_features_extractor.", "features_extractor.")
_POLICY_PREFIXES = ("mlp_extractor.policy_net.", "action_net.")


def _to_numpy(value: Any) -> np.ndarray:
    """A tensor (any device, dtype, requires_grad) or array-like as a float64 array."""
    if hasattr(value, "detach"):  # a torch.Tensor, handled by duck typing so that torch is never imported here
        # .double() first: bfloat16 has no numpy dtype, and float32 -> float64 is exact anyway.
        value = value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)


class NumpyPolicy:
    """The policy branch of an rnadesign SB3 ``ActorCriticPolicy``, evaluated with numpy.

    Implements: one-hot or embedded input for one or two channels (``EnvConfig.include_sequence``),
    up to two valid conv1d layers with ReLU, an LSTM of any number of layers along the window
    (PyTorch's gate order and biases, zero initial state), dense ReLU layers and the action head.

    Args:
        agent: the configuration the weights were trained with.
        state_dict: ``ActorCriticPolicy.state_dict()`` (torch tensors or numpy arrays), or just its
            policy-branch entries. The features extractor may appear as ``pi_features_extractor.*``
            (preferred: it is what SB3's ``get_distribution`` uses), ``features_extractor.*`` or both.

    Raises:
        ValueError: the network is not one :meth:`supports` accepts, or ``state_dict`` lacks a key,
            has one of the wrong shape, or has policy-branch keys this configuration does not use
            (weights of another network). The message names the key.
    """

    def __init__(self, agent: AgentConfig, state_dict: Mapping[str, Any]):
        if not self.supports(agent):
            raise ValueError(f"NumpyPolicy does not implement the network of {agent.name!r}: {agent.network}")
        self.agent = agent
        network = agent.network
        self.channels = 2 if agent.env.include_sequence else 1
        self.window = agent.env.window
        self._vocabularies = (N_STRUCTURE_SYMBOLS, N_SEQUENCE_SYMBOLS)[: self.channels]

        present = [p for p in _FEATURES_PREFIXES if any(k.startswith(p) for k in state_dict)]
        prefix = present[0] if present else _FEATURES_PREFIXES[-1]
        used: set[str] = set()

        def take(key: str, shape: tuple[int, ...]) -> np.ndarray:
            if key not in state_dict:
                raise ValueError(f"state_dict has no {key!r} (needed for the network of {agent.name!r})")
            array = _to_numpy(state_dict[key])
            if array.shape != shape:
                raise ValueError(f"state_dict[{key!r}] has shape {array.shape}, the network needs {shape}")
            used.add(key)
            return array

        # Input: a lookup table per channel; one-hot is the identity table, so both cases are one gather.
        if network.embedding_size:
            self._tables = [
                take(f"{prefix}layers.embed.{c}.weight", (v, network.embedding_size))
                for c, v in enumerate(self._vocabularies)
            ]
        else:
            self._tables = [np.eye(v) for v in self._vocabularies]
        features = sum(t.shape[1] for t in self._tables)

        # Conv layers: activations are kept C-contiguous as (batch, positions, features), so the K
        # positions under a kernel are one contiguous run of K*features numbers, in (kernel, features)
        # order: a valid conv is a matmul of those runs with torch's (out, features, kernel) weight
        # reordered to match.
        self._convs: list[tuple[int, np.ndarray, np.ndarray]] = []
        positions = self.window
        layers = ((network.conv_radius1, network.conv_channels1), (network.conv_radius2, network.conv_channels2))
        for index, (radius, out_channels) in enumerate((r, ch) for r, ch in layers if r):
            kernel = 2 * radius + 1
            key = f"{prefix}layers.conv.{2 * index}"  # Sequential(conv, ReLU, conv, ReLU)
            weight = take(f"{key}.weight", (out_channels, features, kernel))
            bias = take(f"{key}.bias", (out_channels,))
            weight = weight.transpose(0, 2, 1).reshape(out_channels, kernel * features)
            self._convs.append((kernel, np.ascontiguousarray(weight.T), bias))
            features = out_channels
            positions -= kernel - 1

        self._lstm: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for layer in range(network.num_lstm_layers):
            units = network.lstm_units
            key = f"{prefix}layers.lstm"
            w_ih = take(f"{key}.weight_ih_l{layer}", (4 * units, features))
            w_hh = take(f"{key}.weight_hh_l{layer}", (4 * units, units))
            bias = take(f"{key}.bias_ih_l{layer}", (4 * units,)) + take(f"{key}.bias_hh_l{layer}", (4 * units,))
            # sigmoid(z) = (tanh(z/2) + 1) / 2: halving the i, f, o rows (exact: a power of two) lets
            # one tanh serve all four gates, and tanh never overflows the way exp(-z) can.
            half = np.full(4 * units, 0.5)
            half[2 * units : 3 * units] = 1.0  # PyTorch's gate order is i, f, g, o; g is a plain tanh
            w_ih, w_hh, bias = w_ih * half[:, None], w_hh * half[:, None], bias * half
            self._lstm.append((np.ascontiguousarray(w_ih.T), np.ascontiguousarray(w_hh.T), bias))
            features = units

        # Dense layers, then the action head; each stored transposed for x @ W.
        self._dense: list[tuple[np.ndarray, np.ndarray]] = []
        inputs = features * positions
        sizes = [network.fc_units] * network.num_fc_layers
        for index, units in enumerate(sizes):
            key = f"mlp_extractor.policy_net.{2 * index}"  # Sequential(linear, ReLU, ...)
            self._dense.append((take(f"{key}.weight", (units, inputs)), take(f"{key}.bias", (units,))))
            inputs = units
        self._dense.append((take("action_net.weight", (N_ACTIONS, inputs)), take("action_net.bias", (N_ACTIONS,))))
        if not self._lstm:
            # torch flattens (batch, features, positions), we hold (batch, positions, features):
            # permute the first linear layer's columns once instead of transposing every batch.
            weight, bias = self._dense[0]
            weight = weight.reshape(-1, features, positions).transpose(0, 2, 1).reshape(weight.shape[0], -1)
            self._dense[0] = (weight, bias)
        self._dense = [(np.ascontiguousarray(w.T), b) for w, b in self._dense]

        for p in (prefix, *_POLICY_PREFIXES):
            unused = sorted(k for k in state_dict if k.startswith(p) and k not in used)
            if unused:
                raise ValueError(
                    f"state_dict has {', '.join(map(repr, unused))}, which the network of {agent.name!r} does not "
                    "have: the weights belong to another configuration"
                )

    @classmethod
    def from_torch_state_dict(cls, agent: AgentConfig, state_dict: Mapping[str, Any]) -> NumpyPolicy:
        """Build from a torch ``state_dict`` (tensors on any device, with or without grad).

        The constructor takes tensors too (via ``np.asarray``); this converts only through the
        tensors' own methods and never imports torch.
        """
        return cls(agent, {key: _to_numpy(value) for key, value in state_dict.items()})

    @staticmethod
    def supports(agent: AgentConfig) -> bool:
        """Whether this module implements ``agent``'s network (if not, sample with torch)."""
        network = agent.network
        names = {f.name for f in dataclasses.fields(network)}
        if not names <= _IMPLEMENTED_NETWORK_FIELDS:
            return False
        sizes = (network.conv_radius1, network.conv_radius2, network.num_lstm_layers, network.num_fc_layers)
        if network.embedding_size < 0 or min(sizes) < 0:
            return False
        shrink = 2 * (network.conv_radius1 + network.conv_radius2)
        return agent.env.window - shrink >= 1

    def logits(self, observations: np.ndarray) -> np.ndarray:
        """The action head's output (unnormalised logits, float64).

        Args:
            observations: integer codes shaped ``(batch, channels * window)`` as ``RnaDesignEnv``
                produces them (any integer or integral float dtype), or one observation ``(channels * window,)``.

        Returns:
            ``(batch, 4)``, or ``(4,)`` for a single observation.

        Raises:
            ValueError: wrong width, or a code outside its channel's range.
        """
        observations = np.asarray(observations)
        single = observations.ndim == 1
        batch = observations[None] if single else observations
        if batch.ndim != 2 or batch.shape[1] != self.channels * self.window:
            raise ValueError(
                f"observations of shape {observations.shape}: expected (batch, {self.channels * self.window}) "
                f"({self.channels} channel(s) of a {self.window}-wide window)"
            )
        # SB3 casts observations to float and the extractor back with .long(), which truncates: so do we.
        codes = batch.astype(np.intp).reshape(len(batch), self.channels, self.window)
        for c, vocabulary in enumerate(self._vocabularies):
            if codes.size and (codes[:, c].min() < 0 or codes[:, c].max() >= vocabulary):
                raise ValueError(f"channel {c} of the observations holds codes outside 0..{vocabulary - 1}")
        if not len(batch):
            return np.empty((0, N_ACTIONS))
        # (batch, positions, features), the channels' embeddings side by side as torch.cat(dim=2) puts
        # them. np.take, not table[codes]: a fifth of the time for these small tables.
        parts = [np.take(table, codes[:, c], axis=0) for c, table in enumerate(self._tables)]
        x = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)
        for kernel, weight, bias in self._convs:
            b, w, f = x.shape
            p = w - kernel + 1
            # Overlapping windows of the contiguous x (numpy checks the view stays inside x's buffer).
            windows = np.ndarray((b, p, kernel * f), x.dtype, x, 0, (x.strides[0], x.strides[1], x.strides[2]))
            x = np.ascontiguousarray(windows).reshape(b * p, kernel * f) @ weight
            x += bias
            x = np.maximum(x, 0.0, out=x).reshape(b, p, -1)
        for w_ih, w_hh, bias in self._lstm:
            x = self._lstm_layer(x, w_ih, w_hh, bias)
        x = x.reshape(len(x), -1)
        for weight, bias in self._dense[:-1]:
            x = x @ weight
            x += bias
            np.maximum(x, 0.0, out=x)
        weight, bias = self._dense[-1]
        logits = x @ weight
        logits += bias
        return logits[0] if single else logits

    @staticmethod
    def _lstm_layer(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """One ``nn.LSTM(batch_first=True)`` layer from a zero state: (batch, positions, in) -> (..., units)."""
        units = w_hh.shape[0]
        # The weights come with the i, f, o rows halved (see __init__): tanh of every gate, then
        # (a + 1) / 2 on those three, is their sigmoid.
        scale = np.full(4 * units, 0.5)
        scale[2 * units : 3 * units] = 1.0
        offset = 1.0 - scale
        gates_in = x @ w_ih + bias  # the input's share of every step's gates, in one matmul
        h = np.zeros((len(x), units))
        c = np.zeros((len(x), units))
        out = np.empty((len(x), x.shape[1], units))
        for t in range(x.shape[1]):
            gates = h @ w_hh
            gates += gates_in[:, t]
            np.tanh(gates, out=gates)
            gates *= scale
            gates += offset
            i, f, g, o = (gates[:, k * units : (k + 1) * units] for k in range(4))
            c = f * c + i * g
            h = o * np.tanh(c)
            out[:, t] = h
        return out

    def probabilities(self, observations: np.ndarray) -> np.ndarray:
        """softmax(logits), computed without overflow; same shapes as :meth:`logits`."""
        logits = self.logits(observations)
        weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return weights / weights.sum(axis=-1, keepdims=True)

    def sample(self, observations: np.ndarray, rng: np.random.Generator, masks: np.ndarray | None = None) -> np.ndarray:
        """Actions drawn from softmax(logits), one uniform number per observation (inverse CDF).

        Args:
            observations: as for :meth:`logits`.
            rng: the source of randomness; the same state gives the same actions.
            masks: booleans shaped like the logits (``RnaDesignEnv.action_masks``): only actions marked
                True are drawn, from the softmax renormalised over them. Every row needs one True.

        Returns:
            int64 actions in 0..3: ``(batch,)``, or a 0-d array for a single observation.
        """
        probabilities = self.probabilities(observations)
        if masks is not None:
            probabilities = np.where(masks, probabilities, 0.0)
        cdf = np.cumsum(probabilities, axis=-1)
        # Scale by the total so rounding in the cumsum cannot leave the top of the CDF below u; action
        # k is drawn when cdf[k-1] <= u < cdf[k], an empty interval for a zero probability.
        u = rng.random(cdf.shape[:-1] + (1,)) * cdf[..., -1:]
        actions = np.minimum((cdf <= u).sum(axis=-1), N_ACTIONS - 1)
        return actions.astype(np.int64)
