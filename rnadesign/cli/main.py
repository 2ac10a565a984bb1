"""The ``rnadesign`` command line. The only module that prints or exits."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from .console import (
    EXIT_INTERRUPTED,
    configure_logging,
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
        args = build_parser().parse_args(argv)
    configure_logging(PROG, quiet=args.quiet, verbose=args.verbose)
    # SLURM and service managers stop jobs with SIGTERM: stop as on Ctrl-C (a benchmark kills its
    # attempts, meta-training writes a checkpoint).
    signal.signal(signal.SIGTERM, _terminate)
    code = run_command(PROG, args.handler, args)
    return EXIT_TERMINATED if code == EXIT_INTERRUPTED and _TERMINATED else code


def _terminate(signum, frame) -> None:
    global _TERMINATED
    _TERMINATED = True
    raise KeyboardInterrupt


_TERMINATED = False  # a SIGTERM arrived: exit 143 rather than Ctrl-C's 130


if __name__ == "__main__":
    sys.exit(main())
