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
* **Limits Pyro4 does not set.** By default a connection that sends nothing is held forever (45
  idle connections held all of a nameserver's 40 threads: a keyed client waited 20 s), and a message
  is read whole, however large its header says it is, before its HMAC is checked. Here idle
  connections are dropped after :data:`COMM_TIMEOUT_S` (a proxy whose idle connection was dropped
  reconnects), a message larger than :data:`MAX_MESSAGE_BYTES` is refused unread, and a daemon
  serves up to :data:`THREADPOOL_SIZE` connections.
* **TLS** (:func:`use_tls`): for runs across networks you do not trust, every connection is TLS
  with certificates signed by the run's own CA, required on both sides; HMAC alone authenticates
  messages but neither encrypts them nor stops a replay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import Pyro4
import Pyro4.core
import serpent

__all__ = ["COMM_TIMEOUT_S", "MAX_MESSAGE_BYTES", "THREADPOOL_SIZE", "apply", "plain", "use_tls"]

_state: dict[str, Any] = {"applied": False, "key": None}

COMM_TIMEOUT_S = 30.0
"""Seconds a connection may stay silent (and a call may wait for its reply) before it is dropped.
hpbandster's long-running calls are one-way (start_computation, register_result), so none waits this long."""
MAX_MESSAGE_BYTES = 16 * 2**20
"""Largest Pyro4 message accepted: a configuration or a result is a few kB."""
THREADPOOL_SIZE = 256
"""Connections one daemon serves at once (Pyro4's default: 40)."""


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
    Pyro4.config.COMMTIMEOUT = COMM_TIMEOUT_S
    Pyro4.config.MAX_RETRIES = 2  # a proxy reconnects when the peer dropped its idle connection
    Pyro4.config.MAX_MESSAGE_SIZE = MAX_MESSAGE_BYTES
    Pyro4.config.THREADPOOL_SIZE = THREADPOOL_SIZE
    Pyro4.core.Proxy._pyroHmacKey = _with_default_key(Pyro4.core.Proxy._pyroHmacKey)
    Pyro4.core.Daemon._pyroHmacKey = _with_default_key(Pyro4.core.Daemon._pyroHmacKey)
    Pyro4.core.Proxy.__getstate_for_dict__ = _state_without_key(Pyro4.core.Proxy.__getstate_for_dict__)
    _state["applied"] = True


def use_tls(cert: str | Path, key: str | Path, ca: str | Path) -> None:
    """TLS on every Pyro4 connection of this process, both ways: this process presents ``cert`` (with its
    ``key``) as server and as client, and accepts only peers whose certificate ``ca`` signed.

    Each machine's certificate must name the address it is reached at (``--host``) as a subject
    alternative name (IP or DNS), since clients check it. Call before any Pyro4 traffic.

    Raises:
        AutoRLError: a file is missing.
    """
    from .errors import AutoRLError

    for what, path in (("certificate", cert), ("key", key), ("CA certificate", ca)):
        if not Path(path).is_file():
            raise AutoRLError(f"{path}: no such TLS {what} file")
    Pyro4.config.SSL = True
    Pyro4.config.SSL_REQUIRECLIENTCERT = True
    Pyro4.config.SSL_SERVERCERT = Pyro4.config.SSL_CLIENTCERT = str(cert)
    Pyro4.config.SSL_SERVERKEY = Pyro4.config.SSL_CLIENTKEY = str(key)
    Pyro4.config.SSL_CACERTS = str(ca)


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
