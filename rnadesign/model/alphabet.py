"""The base pairs a design may place: the Watson-Crick pairs and the G-U wobble, in the order every
pair-indexed table of the search and the designability check uses."""

__all__ = ["PAIRS"]

PAIRS = ("GC", "CG", "AU", "UA", "GU", "UG")
