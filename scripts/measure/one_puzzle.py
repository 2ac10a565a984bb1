"""The command line the one-puzzle measurements share (``restarts.py``, ``finishes.py``, ``energy_screen.py``):
which Eterna100-V2 puzzle, mode, time limit, seed and search settings, and the design run with them."""

from __future__ import annotations

import argparse
import json

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.config import SearchConfig
from rnadesign.design import Design, DesignSettings, design


def arguments(doc: str, *, mode: str, puzzle: str, time_limit: float) -> argparse.ArgumentParser:
    """A parser with ``--mode --puzzle --time-limit --seed --search-config`` (its defaults given here); a
    script adds its own options before parsing."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--mode", default=mode, choices=["hybrid", "search"])
    parser.add_argument("--puzzle", default=puzzle, help="Eterna100-V2 puzzle number")
    parser.add_argument("--time-limit", type=float, default=time_limit)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--search-config", default="{}", help="JSON: SearchConfig fields")
    return parser


def target_of(args: argparse.Namespace) -> str:
    """The puzzle's dot-bracket."""
    return {t.name: t for t in load_dataset("eterna100-v2").targets}[args.puzzle].text


def run(args: argparse.Namespace, target: str) -> Design:
    """Design ``target`` (:func:`target_of`) as the arguments say (after the script has wrapped what it measures)."""
    search = SearchConfig(**json.loads(args.search_config))
    settings = DesignSettings(mode=args.mode, time_limit=args.time_limit, seed=args.seed, search=search)
    return design(target, settings)
