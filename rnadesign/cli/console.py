"""What both command lines share: option types, logging setup with progress bars, the error boundary.

Libraries log through :mod:`logging` (``rnadesign.*`` and ``autorl.*`` loggers) and never print.
A log record that carries ``extra={"progress": (key, done, total)}`` is a progress report: on a
terminal :class:`ConsoleHandler` draws it as a tqdm bar named ``key``; elsewhere (a log file, CI)
it is one plain line like any other record. Only the command lines call :func:`configure_logging`.

Standard library only at import time (tqdm is imported when a bar is drawn), so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from ..errors import RnaDesignError

__all__ = [
    "ArgumentParser",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ConsoleHandler",
    "add_verbosity_options",
    "configure_logging",
    "non_negative_number",
    "positive_int",
    "positive_number",
    "run_command",
    "seed",
]

EXIT_OK = 0
EXIT_USAGE = 2  # bad input or arguments, as argparse uses
EXIT_INTERRUPTED = 130


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (and a pointer to ``--help``) instead of the usage text."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --- argparse types --------------------------------------------------------------------------


#: Seeds a user may give: every generator the project seeds (NumPy's legacy one among them) takes them,
#: and seeds derived from one (per target, per restart) wrap around within the range.
SEED_LIMIT = 2**31


def _number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {value}")
    return number


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None


def seed(value: str) -> int:
    number = _integer(value)
    if not 0 <= number < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**31 - 1], got {value}")
    return number


def positive_number(value: str) -> float:
    number = _number(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return number


def non_negative_number(value: str) -> float:
    number = _number(value)
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or positive, got {value}")
    return number


def positive_int(value: str) -> int:
    number = _integer(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def add_verbosity_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only, no progress")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more detail (-vv: debugging)")


# --- logging ---------------------------------------------------------------------------------


class ConsoleHandler(logging.Handler):
    """Writes records to stderr; progress records become tqdm bars when stderr is a terminal."""

    def __init__(self, stream=None, *, bars: bool | None = None):
        super().__init__()
        self.stream = stream or sys.stderr
        self.bars = (self.stream.isatty() and os.environ.get("TERM") != "dumb") if bars is None else bars
        self._bars: dict[str, Any] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            progress = getattr(record, "progress", None)
            if progress is not None and self.bars:
                self._draw(record, *progress)
                return
            message = self.format(record)
            if self._bars:
                from tqdm import tqdm

                tqdm.write(message, file=self.stream)
            else:
                self.stream.write(message + "\n")
                self.stream.flush()
        except Exception:
            self.handleError(record)

    def _draw(self, record: logging.LogRecord, key: str, done: float, total: float) -> None:
        from tqdm import tqdm

        bar = self._bars.get(key)
        if bar is None:
            bar = self._bars[key] = tqdm(total=total, file=self.stream, dynamic_ncols=True, leave=True)
        bar.total = total
        bar.n = min(done, total)
        bar.set_postfix_str(record.getMessage(), refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()
            del self._bars[key]

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
        super().close()


class _Formatter(logging.Formatter):
    """``PROG: warning: ...`` for warnings and errors, the bare message (optionally timed) otherwise."""

    def __init__(self, prog: str, timestamps: bool):
        super().__init__()
        self.prog, self.timestamps = prog, timestamps

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            message = f"{self.prog}: error: {message}"
        elif record.levelno >= logging.WARNING:
            message = f"{self.prog}: warning: {message}"
        if self.timestamps:
            message = f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {message}"
        return message


def configure_logging(prog: str, *, quiet: bool = False, verbose: int = 0, timestamps: bool = False) -> None:
    """Send the project's loggers (``rnadesign``, ``autorl``) to stderr at the chosen verbosity.

    Default: progress and results (INFO); ``quiet``: warnings and errors; ``verbose``: DEBUG.
    Third-party loggers stay at WARNING unless ``verbose >= 2``.
    """
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = ConsoleHandler()
    handler.setFormatter(_Formatter(prog, timestamps))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, ConsoleHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    for name in ("rnadesign", "autorl"):
        logging.getLogger(name).setLevel(level)
    warnings.showwarning = _show_warning  # library warnings become "PROG: warning: ..." lines


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    logging.getLogger("rnadesign.warnings").warning("%s", message)


# --- the error boundary ----------------------------------------------------------------------


def describe_os_error(err: OSError) -> str:
    """One line for an OS error on a user's path: ``PATH: reason``."""
    reason = err.strerror or str(err) or type(err).__name__
    if err.filename is not None:
        target = f" -> {err.filename2}" if getattr(err, "filename2", None) else ""
        return f"{err.filename}{target}: {reason}"
    return reason


def run_command(
    prog: str,
    handler: Callable[[argparse.Namespace], int],
    args: argparse.Namespace,
    *,
    interrupted: str = "interrupted",
) -> int:
    """Run a subcommand's handler inside the one error boundary of a command line.

    User errors (:class:`RnaDesignError`) and OS errors on the user's paths are one line on stderr
    and exit 2; Ctrl-C is exit 130; a closed stdout pipe (``| head``) ends quietly. Anything else is
    a bug and keeps its traceback. ``interrupted`` is the line printed on Ctrl-C (or SIGTERM, where
    the command line turns it into KeyboardInterrupt).
    """
    try:
        return handler(args)
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except RnaDesignError as err:
        _print_error(prog, str(err))
        return EXIT_USAGE
    except OSError as err:
        _print_error(prog, describe_os_error(err))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _print_error(prog, interrupted)
        return EXIT_INTERRUPTED


def _print_error(prog: str, message: str) -> None:
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
