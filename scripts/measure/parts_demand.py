"""How far the steps of a long target's parts' start over-ask their time: for every target of a benchmark set
where the parts' start applies, the number of steps (parts and joins) and the sum of their lengths over the
target's length. With ``hierarchy_time`` "length" each step may take its length's share of the parts' time,
so a sum above 1 means the last steps can be starved once the first ones took theirs.

    python scripts/measure/parts_demand.py eterna100-v2 rfam-taneda

Session 28: on Eterna100-V2's 30 such puzzles 1.0-6.7 (#76 6.7, #73 5.7, #91 4.9); on Rfam-Taneda's 13
0.47-4.1 (#11 4.1).
"""

from __future__ import annotations

import argparse

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.config import SearchConfig
from rnadesign.model.structure import parse_structure
from rnadesign.search import hierarchy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+")
    args = parser.parse_args()
    config = SearchConfig()
    for name in args.datasets:
        rows = []
        for target in load_dataset(name).targets:
            structure = parse_structure(target.text, warn=False)
            if hierarchy.applies(structure, config):
                steps = hierarchy.plan(structure, config.hierarchy_leaf)
                demand = sum(hi - lo for _, lo, hi in steps) / len(structure)
                rows.append((demand, target.name, len(structure), len(steps)))
        print(f"{name}: {len(rows)} targets where the parts' start applies")
        for demand, target_id, length, steps in sorted(rows, reverse=True):
            print(f"  {target_id:>5}  {length:4d} nt  {steps:3d} steps  lengths sum to {demand:.2f} x the target")


if __name__ == "__main__":
    main()
