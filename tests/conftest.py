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
