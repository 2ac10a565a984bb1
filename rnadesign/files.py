"""Files that survive a kill: atomic writes, appended JSON lines, and reading them back.

Every file the project writes whole (policies, checkpoints, summaries, run descriptions, plots)
goes through :func:`atomic_open`, so a reader sees the old file or the new one, never half of one.
Logs of records (benchmark results, the Auto-RL live log) are JSON lines appended with
:func:`append_json_line` and read with :func:`read_json_lines`, which treat a torn last line (a
write cut short by a kill) the same way everywhere: it is set aside into ``FILE.torn`` before the
next append, and ignored by readers; any other bad line is an error naming the file and line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import RnaDesignError

__all__ = [
    "CorruptFileError",
    "append_json_line",
    "atomic_open",
    "atomic_write_json",
    "atomic_write_text",
    "output_directory",
    "save_figure",
    "read_json_lines",
]

_log = logging.getLogger(__name__)


class CorruptFileError(RnaDesignError):
    """A file the project wrote is unreadable: not UTF-8, or a line that is not JSON."""


def output_directory(path: str | Path) -> Path:
    """Create ``path`` (and its parents) as a folder for results, or refuse with one clear line.

    Raises:
        RnaDesignError: ``path`` exists and is not a folder.
        OSError: it cannot be created (no permission, read-only filesystem, ...); names the path.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RnaDesignError(f"{path}: exists and is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    if not os.access(path, os.W_OK | os.X_OK):
        raise RnaDesignError(f"{path}: directory is not writable")
    return path


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on a clean exit it is fsynced and renamed over ``path``.

    ``mode`` is ``"w"`` (text) or ``"wb"`` (bytes). On an exception the temporary file is removed
    and ``path`` is left as it was. The parent folder is created if needed.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:  # 0o666 less the umask, as a plain open() would create it (mkstemp would make it owner-only)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as err:  # name the file the user asked for, not the temporary one
        raise type(err)(err.errno, err.strerror, str(path)) from None
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as f:
        f.write(text)
    return Path(path)


def atomic_write_json(path: str | Path, value: Any, *, indent: int | None = 2) -> Path:
    """Write ``value`` as JSON (and a final newline) to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(value, indent=indent) + "\n")


def save_figure(fig: Any, path: str | Path, *, dpi: int = 120) -> Path:
    """Write a matplotlib figure to ``path`` as PNG atomically, and close it (also when writing fails)."""
    import matplotlib.pyplot as plt

    try:
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return Path(path)


def _set_aside_torn_tail(path: Path) -> None:
    """If ``path`` does not end in a newline, move its last partial line to ``path.torn``."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with open(path, "rb+") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        # Find the start of the partial line: the byte after the last newline.
        block = 1 << 16
        end = size
        start = 0
        while end > 0:
            begin = max(0, end - block)
            f.seek(begin)
            chunk = f.read(end - begin)
            newline = chunk.rfind(b"\n")
            if newline != -1:
                start = begin + newline + 1
                break
            end = begin
        f.seek(start)
        torn = f.read()
        with open(path.with_name(path.name + ".torn"), "ab") as aside:
            aside.write(torn + b"\n")
        f.truncate(start)
        f.flush()
        os.fsync(f.fileno())
    _log.warning("%s: set aside a torn last line (%d bytes) into %s.torn", path, len(torn), path.name)


def append_json_line(path: str | Path, value: Any) -> None:
    """Append ``value`` as one JSON line to ``path``, flushed and fsynced before returning.

    A torn last line left by a kill is set aside first, so the new record never lands on it.
    """
    path = Path(path)
    _set_aside_torn_tail(path)
    line = json.dumps(value) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def read_json_lines(path: str | Path) -> list[Any]:
    """The JSON values in ``path``, one a line (blank lines skipped; no file: no values).

    A last line without its newline that does not parse is a write cut short by a kill: it is
    ignored. Any other line that does not parse is an error.

    Raises:
        CorruptFileError: the file is not UTF-8, or a complete line is not JSON (file and line named).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CorruptFileError(f"{path}: line {line}: not UTF-8 text") from None
    lines = text.split("\n")
    torn_allowed = not text.endswith("\n")
    values = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError as err:
            if torn_allowed and number == len(lines):
                _log.debug("%s: ignoring a torn last line", path)
                continue
            raise CorruptFileError(f"{path}: line {number}: not a JSON value ({err.msg})") from None
    return values
