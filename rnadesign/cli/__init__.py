"""The command line: argument parsing and commands (``main``), the console (logging, progress, error
lines) and the output files of ``rnadesign design``. Libraries below never import it."""

from .main import main

__all__ = ["main"]
