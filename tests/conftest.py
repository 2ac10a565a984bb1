import os

import pytest
import torch

torch.set_num_threads(1)

DATA = os.path.join(os.path.dirname(__file__), os.pardir, "data")


@pytest.fixture
def taneda():
    """Rfam-Taneda targets by id, as shipped in data/."""

    def load(i: int) -> str:
        with open(os.path.join(DATA, "rfam_taneda", f"{i}.rna")) as f:
            return f.read().strip()

    return load


@pytest.fixture
def eterna():
    """Eterna100-V2 puzzles by number, parsed (without designability warnings), as shipped in data/."""
    from rnadesign.model.structure import parse_structure

    def load(i: int):
        with open(os.path.join(DATA, "eterna100_v2", "eterna100_v2.txt")) as f:
            return parse_structure(f.read().split("\n")[i - 1].strip(), warn=False)

    return load


#: Small targets for short meta-training runs: their training set and validation set alike.
META_TARGETS = ("((((....))))", "(((....)))..((((....))))", "((((((....))))))", "...(((((....)))))...", "((((...))))")


@pytest.fixture
def meta_train_args(tmp_path):
    """``meta_train_args(out, budget, *extra)``: the arguments after the interpreter of a short ``rnadesign
    meta-train`` on :data:`META_TARGETS` (written to ``meta_train_args.train``, also the validation set),
    checkpointing every second and validating only at the end; ``extra`` comes last, so its options win."""
    train = tmp_path / "train.txt"
    train.write_text("\n".join(META_TARGETS) + "\n")

    def args(out, budget, *extra):
        return [
            *("-m", "rnadesign", "meta-train", "--train", str(train), "--validation", str(train)),
            *("--time-budget", str(budget), "--out", str(out), "--checkpoint-every", "1"),
            *("--validate-every", "1000", "--validation-episodes", "1", *extra),
        ]

    args.train, args.targets = train, META_TARGETS
    return args
