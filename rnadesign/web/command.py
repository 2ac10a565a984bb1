"""The ``rnadesign serve`` subcommand: its options and what it runs (standard library until it serves)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import sys
from pathlib import Path

_log = logging.getLogger("rnadesign.web")

INSTALL_HINT = "the web page needs the 'web' extra: pip install -e \".[web]\" (in the rnadesign checkout)"
TOKEN_ENV = "RNADESIGN_TOKEN"


def default_workers() -> int:
    """Cores this process may use, less one for the server itself; at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def default_data_dir() -> Path:
    """A per-user data folder: ``$XDG_DATA_HOME/rnadesign`` (``~/.local/share/rnadesign``), or the platform's."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rnadesign"


def add_serve_arguments(parser: argparse.ArgumentParser, positive_int, positive_number) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s; 0 picks a free one)")
    parser.add_argument(
        "--data",
        metavar="DIR",
        help=f"where jobs and results are kept (SQLite; default: {default_data_dir()})",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="designs run at once, each in its own process; more jobs queue "
        f"(default: cores - 1, here {default_workers()})",
    )
    parser.add_argument(
        "--token",
        help=f"require this token of every request (Authorization: Bearer TOKEN, or sign in once on the page); "
        f"needed to listen on anything but this machine (default: ${TOKEN_ENV}, else none)",
    )
    parser.add_argument(
        "--max-time-limit",
        type=positive_number,
        default=600.0,
        metavar="SECONDS",
        help="the longest time limit per target a job may ask for (default: %(default)g)",
    )
    parser.add_argument(
        "--max-input",
        type=positive_int,
        default=100_000,
        metavar="CHARS",
        help="the most characters of targets one job may send (default: %(default)s)",
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(args: argparse.Namespace, config_error) -> int:
    """Run the server until Ctrl-C. ``config_error`` is the error class the command line turns into one line."""
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    if not is_loopback(args.host) and token is None:
        raise config_error(
            f"refusing to listen on {args.host} without --token: anyone who can reach it could run designs "
            "and read every job (give --token, or keep the default --host 127.0.0.1)"
        )
    if not 0 <= args.port <= 65535:
        raise config_error(f"--port must be in 0..65535, got {args.port}")
    try:
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as err:
        raise config_error(f"{INSTALL_HINT} ({err.name} is missing)") from None
    from .app import WebConfig, create_app
    from .forms import Limits

    data = Path(args.data) if args.data else default_data_dir()
    workers = args.workers or default_workers()
    config = WebConfig(
        data=data,
        workers=workers,
        token=token,
        limits=Limits(max_time_limit=args.max_time_limit, max_input=args.max_input),
        allowed_hosts=None if token is not None else WebConfig.allowed_hosts,
    )
    app = create_app(config)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host.strip("[]"), args.port))
    except OSError as err:
        raise config_error(f"cannot listen on {args.host}:{args.port}: {err.strerror}") from None
    port = sock.getsockname()[1]
    shown = f"[{args.host.strip('[]')}]" if ":" in args.host else args.host
    _log.info(  # a line on stderr (the command line's logging; only cli/main.py prints)
        "serving http://%s:%d/ (%d worker%s, jobs in %s); Ctrl-C stops",
        shown,
        port,
        workers,
        "s" if workers != 1 else "",
        data,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3))
    server.run(sockets=[sock])
    return 0
