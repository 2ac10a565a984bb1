"""Finding each other: the shared secret, hpbandster's nameserver, and its address file ``nameserver.json``.

Peers of a multi-host run find the nameserver through a credentials file in a shared directory
(``nameserver.json``: plain JSON, never a pickle) or through an explicit host and port, and only
talk to peers that hold the run's shared secret (Pyro4 HMAC; see :mod:`autorl.compat`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from rnadesign.files import atomic_write_json

from .compat import apply
from .errors import AutoRLError

__all__ = [
    "CREDENTIALS",
    "SECRET_ENV",
    "check_nameserver",
    "read_credentials",
    "read_secret",
    "secret_from_env",
    "serve_nameserver",
    "start_nameserver",
    "write_credentials",
]

CREDENTIALS = "nameserver.json"
SECRET_ENV = "AUTORL_SECRET"
_log = logging.getLogger(__name__)


def secret_from_env() -> str | None:
    """The shared secret from ``$AUTORL_SECRET`` (an environment variable keeps it out of ``ps``)."""
    return os.environ.get(SECRET_ENV) or None


def read_secret(path: str | Path) -> str:
    """A shared secret from a file (first line; the file should be readable by you only)."""
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except OSError as err:
        raise AutoRLError(f"{path}: cannot read the secret ({err.strerror})") from None
    except UnicodeDecodeError:
        raise AutoRLError(f"{path}: the secret file is not UTF-8 text") from None
    if not secret:
        raise AutoRLError(f"{path}: the secret file is empty")
    return secret


def start_nameserver(
    run_id: str, host: str = "127.0.0.1", port: int = 0, secret: str | None = None
) -> tuple[Any, str, int]:
    """Start hpbandster's nameserver in a thread of this process; returns ``(nameserver, host, port)``."""
    apply(secret)
    from hpbandster.core.nameserver import NameServer

    nameserver = NameServer(run_id=run_id, host=host, port=port)
    try:
        ns_host, ns_port = nameserver.start()
    except OSError as err:
        raise AutoRLError(f"cannot start the nameserver on {host}:{port} ({err})") from None
    return nameserver, ns_host, int(ns_port)


def write_credentials(directory: str | Path, run_id: str, host: str, port: int) -> Path:
    """Write ``nameserver.json`` atomically (a worker polling for it never reads half of it)."""
    return atomic_write_json(Path(directory) / CREDENTIALS, {"run_id": run_id, "host": host, "port": port}, indent=None)


def read_credentials(directory: str | Path, run_id: str | None = None, wait: float = 60.0) -> tuple[str, int, str]:
    """``(host, port, run_id)`` from ``directory/nameserver.json``.

    Waits up to ``wait`` seconds for the file to appear (and, with ``run_id``, for it to be that
    run's: a file left by an earlier run is not used).
    """
    path = Path(directory) / CREDENTIALS
    deadline = time.monotonic() + wait
    while True:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if run_id is None or data.get("run_id") == run_id:
                return str(data["host"]), int(data["port"]), str(data["run_id"])
            problem = f"it belongs to run {data.get('run_id')!r}, not {run_id!r}"
        except FileNotFoundError:
            problem = "no such file (is the master running?)"
        # a half-written or foreign file: JSON errors are ValueErrors, a non-object an AttributeError
        except (OSError, ValueError, AttributeError, KeyError, TypeError) as err:
            reason = "not a JSON object" if isinstance(err, AttributeError) else str(err)
            raise AutoRLError(f"{path}: unreadable nameserver address ({reason})") from None
        if time.monotonic() >= deadline:
            raise AutoRLError(f"{path}: no nameserver address after {wait:g}s: {problem}")
        time.sleep(0.5)


def check_nameserver(host: str, port: int, secret: str | None) -> None:
    """Connect to the nameserver once; a clear error if it is unreachable or refuses our secret."""
    apply(secret)
    import Pyro4
    import Pyro4.errors

    try:
        with Pyro4.locateNS(host=host, port=port) as ns:
            ns.ping()
    except Pyro4.errors.PyroError as err:
        cause = err.__cause__ or err
        if "hmac" in str(cause).lower():
            raise AutoRLError(
                f"the nameserver at {host}:{port} refused this process: wrong or missing shared secret ({cause})"
            ) from None
        raise AutoRLError(f"cannot reach the nameserver at {host}:{port} ({cause})") from None


def serve_nameserver(run_id: str, host: str, port: int, secret: str | None, directory: str | Path | None) -> None:
    """Run a nameserver until interrupted (Ctrl-C or SIGTERM); its address goes to ``directory`` if given."""
    nameserver, ns_host, ns_port = start_nameserver(run_id, host, port, secret)
    try:
        credentials = write_credentials(directory, run_id, ns_host, ns_port) if directory is not None else None
    except BaseException:
        nameserver.shutdown()
        raise
    _log.info("nameserver for run %s at %s:%s; stop with Ctrl-C", run_id, ns_host, ns_port)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        nameserver.shutdown()
        if credentials is not None:
            credentials.unlink(missing_ok=True)
