"""Benchmarks: datasets by name, a resumable runner with one process per attempt, summaries."""

from .datasets import DATASETS, Dataset, load_dataset
from .runner import run_benchmark
from .spec import METHODS
from .summary import compare, summarize

__all__ = ["DATASETS", "METHODS", "Dataset", "compare", "load_dataset", "run_benchmark", "summarize"]
