"""Benchmark sets by name, read from the data shipped inside the package (``rnadesign.data``)."""

from __future__ import annotations

import csv
import dataclasses
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

from ..model.structure import InvalidTargetFileError, Target, read_targets

__all__ = ["DATASETS", "Dataset", "eterna100_v2_solutions", "load_dataset", "natural_key", "published_dir"]

#: name -> (location inside rnadesign.data, folder of the authors' ICLR 2019 tables or None)
DATASETS: dict[str, tuple[str, str | None]] = {
    "eterna100-v1": ("eterna100_v1", "eterna"),
    "eterna100-v2": ("eterna100_v2", None),
    "rfam-taneda": ("rfam_taneda", "rfam_taneda"),
    "rfam-learn-test": ("rfam_learn_test/rfam_learn_test.txt", "rfam_learn_test"),
    "meta-validation": ("meta_train/validation.txt", None),
    "meta-train": ("meta_train/train.txt", None),
}


@dataclass(frozen=True)
class Dataset:
    """Named targets; ``published`` names the authors' result tables for this set, if any."""

    name: str
    targets: list[Target]
    published: str | None = None


def _data_root() -> Path:
    """The shipped data: ``rnadesign.data`` when installed (``pip install .`` or editable), else the
    checkout's ``data/`` folder beside the package (a source tree on ``PYTHONPATH``, where the
    ``rnadesign.data`` mapping of ``pyproject.toml`` does not exist)."""
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "SOURCES.md").is_file():
        return checkout
    try:
        return Path(str(importlib.resources.files("rnadesign.data")))
    except ModuleNotFoundError:
        raise InvalidTargetFileError(
            f"the shipped datasets are missing: no rnadesign.data package and no {checkout}; reinstall rnadesign"
        ) from None


def published_dir(dataset: str) -> Path | None:
    """Folder of the LEARNA paper's tables for a dataset name, or None."""
    entry = DATASETS.get(dataset)
    if entry is None or entry[1] is None:
        return None
    path = _data_root() / "learna_iclr2019_results" / entry[1]
    return path if path.is_dir() else None


def natural_key(name: str) -> tuple[bool, int, str]:
    """Sort key for target names: numeric ones first, in numeric order ("2" before "10"), then the rest."""
    return (not name.isdigit(), int(name) if name.isdigit() else 0, name)


def _read_folder(folder: Path) -> list[Target]:
    files = sorted(folder.glob("*.rna"), key=lambda p: natural_key(p.stem))
    if not files:
        raise InvalidTargetFileError(f"{folder}: no *.rna files")
    return [Target(name=f.stem, text=f.read_text(encoding="utf-8").strip()) for f in files]


def _line_id(target: Target) -> Target:
    """A target of a line file named by its line number (``target_12`` -> ``12``), its constraint kept."""
    return dataclasses.replace(target, name=target.name.removeprefix("target_"))


def load_dataset(name_or_path: str | Path) -> Dataset:
    """A dataset by name (see :data:`DATASETS`), or any file of structures or folder of ``*.rna`` files.

    Target ids are the ``i`` of ``i.rna`` for folders, and the 1-based line number (or the
    ``>name`` header) for files.

    Raises:
        InvalidTargetFileError: unknown name, or a path that holds no structures.
    """
    key = str(name_or_path)
    if key in DATASETS:
        location, _ = DATASETS[key]
        path = _data_root() / location
        targets = _read_folder(path) if path.is_dir() else read_targets(path)
        if path.is_file():  # plain line files: ids are line numbers
            targets = [_line_id(t) for t in targets]
        return Dataset(key, targets, key if published_dir(key) else None)
    path = Path(key)
    if path.is_dir():
        return Dataset(path.name, _read_folder(path))
    if not path.exists():
        raise InvalidTargetFileError(f"unknown dataset {key!r}: not one of {', '.join(DATASETS)} and no such file")
    targets = [_line_id(t) for t in read_targets(path)]
    return Dataset(path.stem, targets)


def eterna100_v2_solutions() -> dict[str, tuple[str, str | None]]:
    """Eterna100-V2 puzzle number -> (its structure, the Eterna players' Vienna 2 solution), from the shipped
    ``eterna100_puzzles.tsv``; the solution is None where it is not disclosed (#100)."""
    with open(_data_root() / "eterna100_puzzles.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    solutions = {}
    for row in rows:
        solution = row["Sample Solution (V2/Vienna2)"].strip()
        disclosed = bool(solution) and set(solution) <= set("ACGU")
        solutions[row["Puzzle #"]] = (row["Secondary Structure V2"].strip(), solution if disclosed else None)
    return solutions
