"""The ``rnadesign`` command line. The only module that prints or exits."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from ..errors import ConfigError
from .console import (
    EXIT_INTERRUPTED,
    add_verbosity_options,
    configure_logging,
    positive_int,
    positive_number,
    run_command,
)
from .parser import PROG, build_compare_parser, build_parser, build_summary_parser

EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process it ended


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["benchmark", "compare"]:
        args = build_compare_parser().parse_args(argv[2:])
    elif argv[:2] == ["benchmark", "summary"]:
        args = build_summary_parser().parse_args(argv[2:])
    else:
        args = build_parser(_add_serve).parse_args(argv)
    configure_logging(PROG, quiet=args.quiet, verbose=args.verbose)
    # SLURM and service managers stop jobs with SIGTERM: stop as on Ctrl-C (a benchmark kills its
    # attempts, meta-training writes a checkpoint).
    signal.signal(signal.SIGTERM, _terminate)
    code = run_command(PROG, args.handler, args)
    return EXIT_TERMINATED if code == EXIT_INTERRUPTED and _TERMINATED else code


def _add_serve(commands: argparse._SubParsersAction) -> None:
    """``rnadesign serve``, added here rather than in parser.py: the web page (rnadesign.web, on the cli's
    floor) imports the parser and the commands, so only this entry point, which nothing imports, may import
    it. At parse time that is rnadesign.web.command alone (the standard library); the rest when it serves."""
    from ..web.command import add_serve_arguments

    serve = commands.add_parser(
        "serve",
        help="a web page for designing, on this machine (needs the 'web' extra)",
        description="Serve a web page (and its JSON API) that designs as 'rnadesign design' does: a form, "
        "each job's live progress and ranked designs with pictures and downloads, a list of past jobs. "
        "Jobs are kept in SQLite under --data and run in worker processes; a job a stopped server was "
        "running is shown as interrupted. Listens on 127.0.0.1 unless --host and --token are given.",
    )
    add_serve_arguments(serve, positive_int, positive_number)
    add_verbosity_options(serve)
    serve.set_defaults(handler=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    from ..web.command import serve

    return serve(args, ConfigError)


def _terminate(signum, frame) -> None:
    global _TERMINATED
    _TERMINATED = True
    raise KeyboardInterrupt


_TERMINATED = False  # a SIGTERM arrived: exit 143 rather than Ctrl-C's 130


if __name__ == "__main__":
    sys.exit(main())
