"""How far a newly trained policy moved from another on a dataset's targets, before spending benchmark
hours on it: per decision site (the network's structure window), the mean KL divergence between the two
action distributions, and the share of sites whose most likely action differs. Cheap (no folding).

    python scripts/measure/policy_shift.py expert runs/ei-2/round-19.safetensors eterna100-v2
    python scripts/measure/policy_shift.py expert runs/ei-2/round-19.safetensors runs/hard-24.txt

Prints one line for all sites, then one for paired and one for unpaired sites.
"""

from __future__ import annotations

import argparse

import numpy as np

from rnadesign.benchmark.datasets import load_dataset
from rnadesign.expert import decision_windows
from rnadesign.rl.numpy_policy import NumpyPolicy
from rnadesign.rl.policy_file import load_policy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", help="a policy file, or default or expert")
    parser.add_argument("after")
    parser.add_argument("dataset", help="a dataset name, file of structures or folder of *.rna files")
    args = parser.parse_args(argv)
    before, after = load_policy(args.before), load_policy(args.after)
    if before.agent != after.agent:
        parser.error("the two policies have different configurations (windows or layers): not comparable")
    nets = NumpyPolicy(before.agent, before.state_dict), NumpyPolicy(after.agent, after.state_dict)
    kl, flip, paired = [], [], []
    for target in load_dataset(args.dataset).targets:
        structure = target.parse(warn=False)
        windows = decision_windows(structure, before.agent)
        p, q = (net.probabilities(windows).clip(1e-12, 1.0) for net in nets)
        kl.append((p * np.log(p / q)).sum(axis=1))
        flip.append(p.argmax(axis=1) != q.argmax(axis=1))
        sites = structure.decision_sites()
        paired.append(np.array([structure.pairs[i] >= 0 for i in sites], dtype=bool))
    kl, flip, paired = np.concatenate(kl), np.concatenate(flip), np.concatenate(paired)
    for name, mask in (("all", np.ones_like(paired)), ("paired", paired), ("unpaired", ~paired)):
        shift = f"mean KL {kl[mask].mean():.4f} nats  argmax differs {flip[mask].mean():.1%}"
        print(f"{name:9s} sites {mask.sum():7d}  {shift}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
