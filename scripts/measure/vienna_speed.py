"""Fold speed of the installed ViennaRNA, and a digest of its results, on fixed designs.

Run it once per release, each installed apart, on an idle machine:

    pip install --no-deps --target /tmp/vr264 viennarna==2.6.4
    python scripts/measure/vienna_speed.py                         # the installed release (2.8.0 as shipped)
    PYTHONPATH=/tmp/vr264 python scripts/measure/vienna_speed.py   # 2.6.4

The designs are the search's starts for every Eterna100-V2 puzzle of at least ``--min-length`` nt
(GC pairs, A loops; seeded, so every release sees the same sequences), each mutated at ``--mutations``
random sites so that they fold into a variety of structures. For each it times an MFE fold, a partition
function without pair probabilities (what a child costs the search) and one with them (a parent), and
prints the seconds summed over the designs, best of ``--repeats``. The digest covers the MFE structures,
their energies and P(target) to six digits: releases whose digests agree gave the search the same
numbers on these designs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import RNA

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))

from rnadesign.model.structure import parse_structure  # noqa: E402
from rnadesign.search.ensemble import designer_start  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "data", "eterna100_v2", "eterna100_v2.txt")


def designs(min_length: int, mutations: int, seed: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    out = []
    with open(DATA) as f:
        for line in f:
            if len(line.strip()) < min_length:
                continue
            target = parse_structure(line.strip(), warn=False)
            letters = list(designer_start(target, rng))
            for site in rng.choice(len(letters), size=min(mutations, len(letters)), replace=False):
                letters[site] = "ACGU"[int(rng.integers(4))]
            out.append(("".join(letters), target.dot_bracket))
    return out


def measure(pairs: list[tuple[str, str]]) -> tuple[float, float, float, str]:
    md, md_nobpp = RNA.md(), RNA.md()
    md_nobpp.compute_bpp = 0
    mfe_s = pf_s = bpp_s = 0.0
    results = []
    for sequence, target in pairs:
        start = time.perf_counter()
        fc = RNA.fold_compound(sequence, md)
        structure, energy = fc.mfe()
        mfe_done = time.perf_counter()
        child = RNA.fold_compound(sequence, md_nobpp)
        child.exp_params_rescale(energy)
        child.pf()
        probability = child.pr_structure(target)
        pf_done = time.perf_counter()
        fc.exp_params_rescale(energy)
        fc.pf()
        fc.bpp()
        bpp_done = time.perf_counter()
        mfe_s += mfe_done - start
        pf_s += pf_done - mfe_done
        bpp_s += bpp_done - pf_done
        results.append((structure, round(energy, 2), f"{probability:.6g}"))
    digest = hashlib.sha256(json.dumps(results).encode()).hexdigest()[:16]
    return mfe_s, pf_s, bpp_s, digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-length", type=int, default=80)
    parser.add_argument("--mutations", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pairs = designs(args.min_length, args.mutations, args.seed)
    runs = [measure(pairs) for _ in range(args.repeats)]
    digests = {run[3] for run in runs}
    best = [min(run[k] for run in runs) for k in range(3)]
    print(
        f"ViennaRNA {RNA.__version__}: {len(pairs)} designs of >= {args.min_length} nt; seconds, best of "
        f"{args.repeats}: MFE {best[0]:.2f}, partition function {best[1]:.2f}, with pair probabilities "
        f"{best[2]:.2f}; a search child (MFE + partition function) {best[0] + best[1]:.2f}; digest {digests.pop()}"
    )


if __name__ == "__main__":
    main()
