"""The project's user errors: one base class, so each command line has one error boundary.

Anything a user can get wrong (a malformed target, a bad option value, an unreadable policy or
results file) raises a subclass of :class:`RnaDesignError`, which is a :class:`ValueError`. The
command lines turn it into one line on stderr and exit status 2; everything else is a bug and keeps
its traceback. Standard library only: every module may import this one.
"""

from __future__ import annotations

__all__ = ["ConfigError", "RnaDesignError"]


class RnaDesignError(ValueError):
    """Bad input from the user: the message says what is wrong and where."""


class ConfigError(RnaDesignError):
    """A configuration, setting or option value is out of range or inconsistent."""
