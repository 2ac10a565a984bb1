"""hpbandster 0.7.4 with numpy 2, ConfigSpace 1.x and Pyro4's HMAC keys: every fix in one place.

Call :func:`apply` in every process that talks Pyro4 (nameserver, master, each worker), before
any traffic. What it fixes, and why here:

* **numpy scalars on the wire.** BOHB's sampled configurations hold numpy scalars (``np.str_``,
  ``np.float64``). Pyro4's safe serializer, serpent, refuses them: the dispatcher thread dies and
  the run hangs forever, silently. numpy 2 also prints budgets as ``np.float64(3.0)``, which a
  worker cannot parse. Teaching serpent every ``np.generic`` (sent as the plain Python value) fixes
  both and keeps the safe serializer; pickle, which would run whatever a peer sends, is never
  accepted.
* **A shared secret.** hpbandster builds its Pyro4 daemons and proxies itself, with no way to pass
  an HMAC key. Here the process-wide key becomes the default of every daemon and proxy, so a peer
  without it is refused at connection time; and a proxy sent over the wire (hpbandster passes its
  dispatcher as a callback) does not carry the key in its serialized state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import Pyro4
import Pyro4.core
import serpent

__all__ = ["apply", "plain"]

_state: dict[str, Any] = {"applied": False, "key": None}


def _serialize_numpy_scalar(obj: np.generic, serializer: serpent.Serializer, out: list, level: int) -> None:
    serializer._serialize(obj.item(), out, level)


def _with_default_key(prop: property) -> property:
    """``prop`` with the process-wide key as the value when none was set on the object."""

    def getter(self):
        own = prop.fget(self)
        return own if own is not None else _state["key"]

    return property(getter, prop.fset, prop.fdel, prop.__doc__)


def _state_without_key(original):
    """A Proxy's dict state (what serpent sends) with the HMAC key left out."""

    def getstate(self):
        state = original(self)
        return (*state[:5], None, *state[6:])

    return getstate


def apply(hmac_key: str | bytes | None = None) -> None:
    """Install the fixes in this process (idempotent); ``hmac_key`` becomes every peer's secret.

    With ``hmac_key`` None, Pyro4 traffic is unauthenticated (tests on loopback only).
    """
    if isinstance(hmac_key, str):
        hmac_key = hmac_key.encode("utf-8")
    _state["key"] = hmac_key or None
    if _state["applied"]:
        return
    serpent.register_class(np.generic, _serialize_numpy_scalar)
    Pyro4.config.SERIALIZER = "serpent"
    Pyro4.config.SERIALIZERS_ACCEPTED = {"serpent"}
    Pyro4.core.Proxy._pyroHmacKey = _with_default_key(Pyro4.core.Proxy._pyroHmacKey)
    Pyro4.core.Daemon._pyroHmacKey = _with_default_key(Pyro4.core.Daemon._pyroHmacKey)
    Pyro4.core.Proxy.__getstate_for_dict__ = _state_without_key(Pyro4.core.Proxy.__getstate_for_dict__)
    _state["applied"] = True


def plain(value: Any) -> Any:
    """``value`` with numpy scalars, arrays and tuples turned into plain Python (JSON-safe) values."""
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value
