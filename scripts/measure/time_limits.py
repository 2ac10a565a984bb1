"""Does `rnadesign design --time-limit T` return on time, at any length? Prints the wall time of each run.

Each run is a subprocess `rnadesign design TARGET --time-limit T --mode M --seed 1`, timed from its
start to its exit (interpreter start-up, imports and the final check included), with whether it
returned a design. Targets: Rfam-Taneda 23 (451 nt), a 1,600-nt structure made of Rfam-Taneda
targets side by side, and a 12-nt hairpin.

    python scripts/measure/time_limits.py                                  # 451 nt at 5/20/60 s, default mode
    python scripts/measure/time_limits.py --modes learna meta-learna-adapt rnainverse --limits 5 20 --long
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from rnadesign.benchmark.datasets import load_dataset


def long_target(length: int = 1600) -> str:
    """Rfam-Taneda structures joined by short linkers until ``length`` nt (then padded with dots)."""
    parts, total = [], 0
    for target in load_dataset("rfam-taneda").targets:
        if total + len(target.text) + 3 > length:
            break
        parts.append(target.text)
        total += len(target.text) + 3
    text = "...".join(parts)
    return text + "." * (length - len(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=["meta-learna"])
    parser.add_argument("--limits", nargs="+", type=float, default=[5, 20, 60])
    parser.add_argument("--long", action="store_true", help="also the 1,600-nt target")
    args = parser.parse_args()
    taneda = {t.name: t.text for t in load_dataset("rfam-taneda").targets}
    targets = {"hairpin-12": "((((....))))", "taneda-23": taneda["23"]}
    if args.long:
        targets["joined-1600"] = long_target()
    print(f"{'target':<12} {'nt':>5} {'mode':<18} {'limit_s':>7} {'wall_s':>7} {'over_s':>7}  result")
    for name, target in targets.items():
        for mode in args.modes:
            for limit in args.limits:
                command = [sys.executable, "-m", "rnadesign", "design", target, "--time-limit", f"{limit:g}"]
                command += ["--mode", mode, "--seed", "1", "-q"]
                start = time.perf_counter()
                proc = subprocess.run(command, capture_output=True, text=True)
                wall = time.perf_counter() - start
                header = next((line for line in proc.stdout.splitlines() if line.startswith(">")), "")
                error = proc.stderr.strip().splitlines()[-1] if proc.returncode else ""
                result = " ".join(header.split()[1:3]) if header else f"no design (exit {proc.returncode}) {error}"
                print(
                    f"{name:<12} {len(target):>5} {mode:<18} {limit:>7g} {wall:>7.2f} {wall - limit:>+7.2f}  {result}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
