"""Expert iteration from the command line: ``python scripts/expert_iteration.py OUT [--resume] ...``.

Designs meta-training structures with the designer, trains the policy on the solved designs, repeats
(see :mod:`rnadesign.expert`). Resumable: rerun with ``--resume`` after a kill.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from rnadesign.expert import ExpertSettings, expert_iteration
from rnadesign.rl.policy_file import default_policy_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--resume", action="store_true")
    data = Path(__file__).resolve().parent.parent / "data" / "meta_train"
    parser.add_argument("--train", type=Path, default=data / "train.txt")
    parser.add_argument("--validation", type=Path, default=data / "validation.txt")
    parser.add_argument("--start-policy", type=Path, default=default_policy_path())
    parser.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--jobs", type=int, default=1, help="structures designed at once (one a core)")
    for field in dataclasses.fields(ExpertSettings):
        parser.add_argument("--" + field.name.replace("_", "-"), type=type(field.default), default=field.default)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = ExpertSettings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ExpertSettings)})
    final = expert_iteration(
        args.out, args.train, args.validation, args.start_policy, settings, args.resume, args.time_budget, args.jobs
    )
    print(final)


if __name__ == "__main__":
    main()
