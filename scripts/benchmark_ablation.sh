#!/usr/bin/env bash
# The designer's ablation on one dataset, back to back, one folder per arm under OUT_DIR:
#   search          the ensemble-aware search from the designer's start: no learning at all
#   search-uniform  + online adaptation of a per-target move policy on a uniform prior (no network, no
#                   designer's weights: adapt_prior 0), with hybrid's rate and its push away from stale lineages
#   search-adapt    + the same adaptation on the designer's weights as its prior (no network)
#   hybrid-static   the meta-trained network's designs and priors in the search, no adaptation (adapt_rate 0)
#   hybrid          both: the move policy adapts on the target, its prior the network's probabilities (the default)
#   meta-learna     the network alone, with its refinement walk
#   rnainverse      ViennaRNA's inverse folding
# then the README table and the per-target tests (compare --stats; pool several seeds with --pool).
#
#   bash scripts/benchmark_ablation.sh [DATASET] [OUT_DIR] [JOBS] [LIMIT] [SEED] [ADAPT_RATE]
#   bash scripts/benchmark_ablation.sh eterna100-v2 runs/e100-ablation 2 60 0   # about 6 h on 2 cores
#
# ADAPT_RATE (default 0.5, hybrid's own) is the search arms' step size and push away (adapt_rate and
# adapt_avoid). POLICY=FILE uses that policy file for the arms with a network (default: the shipped one);
# ARMS="search hybrid" runs only those arms. One run per target and arm; the table's 1/10/30 s columns count
# targets solved within that long of those runs. Interrupt it and run it again: finished attempts are kept.
# Run it from a copy of the package that is not edited meanwhile (an editable install picks up edits
# between attempts).
set -euo pipefail
dataset="${1:-eterna100-v2}"
out="${2:-runs/$dataset-ablation}"
jobs="${3:-2}"
limit="${4:-60}"
seed="${5:-0}"
rate="${6:-0.5}"
arms="${ARMS:-search search-uniform search-adapt hybrid-static hybrid meta-learna rnainverse}"
policy=()
if [[ -n "${POLICY:-}" ]]; then policy=(--policy "$POLICY"); fi
folders=()
for arm in $arms; do
    case "$arm" in
        search) args=(--method search) ;;
        search-uniform) args=(--method search --search-config "{\"adapt_rate\": $rate, \"adapt_avoid\": $rate, \"adapt_prior\": 0}") ;;
        search-adapt) args=(--method search --search-config "{\"adapt_rate\": $rate, \"adapt_avoid\": $rate}") ;;
        hybrid-static) args=(--method hybrid "${policy[@]}" --search-config '{"adapt_rate": 0}') ;;
        hybrid) args=(--method hybrid "${policy[@]}") ;;
        meta-learna) args=(--method meta-learna "${policy[@]}") ;;
        rnainverse) args=(--method rnainverse) ;;
        *) echo "unknown arm $arm" >&2; exit 2 ;;
    esac
    python -m rnadesign benchmark "$dataset" "${args[@]}" --time-limit "$limit" --jobs "$jobs" --seed "$seed" \
        --out "$out/$arm" -q
    folders+=("$out/$arm")
done
python -m rnadesign benchmark compare "${folders[@]}" | tee "$out/compare.md"
python -m rnadesign benchmark compare --stats "${folders[@]}" | tee "$out/stats.md"
