"""The one error class of the Auto-RL outer loop.

A subclass of :class:`rnadesign.errors.RnaDesignError`, so ``autorl``'s command line (and any caller
that already handles rnadesign's user errors) turns it into one line and exit status 2.
"""

from __future__ import annotations

from rnadesign.errors import RnaDesignError

__all__ = ["AutoRLError"]


class AutoRLError(RnaDesignError):
    """A run cannot start or go on, or its files are unreadable (the message says why and what to do)."""
