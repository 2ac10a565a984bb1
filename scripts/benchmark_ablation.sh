#!/usr/bin/env bash
# The hybrid designer's ablation on one dataset, back to back in one folder: hybrid (the default:
# the policy's designs and priors in the ensemble-aware search), search (the search alone, from the
# designer's start: no policy), meta-learna (the policy alone, with its refinement walk) and
# rnainverse (ViennaRNA's inverse folding), then the README table and the per-target test.
#
#   bash scripts/benchmark_ablation.sh [DATASET] [OUT_DIR] [JOBS] [LIMIT]
#   bash scripts/benchmark_ablation.sh eterna100-v2 runs/e100-ablation 2 60     # about 80 min on 2 cores
#
# One run per target and method; the table's 1/10/30 s columns count targets solved within that
# long of those runs. Interrupt it and run it again: finished attempts are kept. Run it from a copy
# of the package that is not edited meanwhile (an editable install picks up edits between attempts).
set -euo pipefail
dataset="${1:-eterna100-v2}"
out="${2:-runs/$dataset-ablation}"
jobs="${3:-2}"
limit="${4:-60}"
for method in hybrid search meta-learna rnainverse; do
    python -m rnadesign benchmark "$dataset" --method "$method" --time-limit "$limit" --jobs "$jobs" --out "$out" -q
done
python -m rnadesign benchmark compare "$out" | tee "$out/compare.md"
python -m rnadesign benchmark compare --stats "$out" | tee "$out/stats.md"
