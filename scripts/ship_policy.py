"""Ship a meta-trained policy as the package default, with a model card written from its metadata.

    python scripts/ship_policy.py RUN_DIR/policy.safetensors [--notes "how it was trained"]

Writes the policy to rnadesign/rl/models/default.safetensors (either policy file format in, the current
one out) and writes rnadesign/rl/models/MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import json

from rnadesign.rl.policy_file import default_policy_path, load_policy, save_policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("policy")
    parser.add_argument("--notes", default="", help="free text for the card (hardware, commands)")
    args = parser.parse_args()
    policy = load_policy(args.policy)  # refuses anything that is not a weights-only policy file
    target = default_policy_path()
    save_policy(target, policy.agent, policy.state_dict, policy.card)
    card, validation = policy.card, policy.card.get("validation", {})
    text = f"""# Model card: rnadesign default policy (`rnadesign/rl/models/default.safetensors`)

Meta-LEARNA-style policy: PPO meta-trained across many target structures, used by
`rnadesign design --mode meta-learna` and `--mode meta-learna-adapt`.

| | |
|---|---|
| training data | {card.get("training_data")}: `data/meta_train/train.txt`, MFE structures of Rfam 14.2 seed sequences, see `data/SOURCES.md` |
| validation data | `data/meta_train/validation.txt` ({card.get("validation_targets")} structures, disjoint from training) |
| budget | {card.get("trained_s")} s of training, {card.get("workers")} environment worker(s), {card.get("timesteps")} steps, {card.get("episodes")} episodes |
| validation score | {validation.get("solved")}/{validation.get("n_targets")} targets solved, mean best normalised distance {validation.get("mean_distance", float("nan")):.4f} (policy samples only, no search beyond the environment's local improvement) |
| ViennaRNA | {card.get("vienna_version")} ({card.get("folding")}) |
| torch (training) | {card.get("torch_version")} |
| seed | {card.get("seed")} |

Configuration (`env`, `network`, `ppo`):

```json
{json.dumps(policy.agent.to_dict(), indent=2)}
```

{args.notes}

The file is a safetensors file: weights and configuration only, no code; reading it needs neither torch nor pickle.
"""
    (target.parent / "MODEL_CARD.md").write_text(text, encoding="utf-8")
    print(f"shipped {args.policy} -> {target}")


if __name__ == "__main__":
    main()
