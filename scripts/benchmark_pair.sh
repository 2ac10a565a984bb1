#!/usr/bin/env bash
# One pair of the learning-pays comparison: `hybrid` (the default, with learning) and `search` (no
# learning) on one dataset, side by side, one attempt at a time each (2 cores, the same hour and the same
# machine load for both), then the pair's totals. Pool several pairs (different seeds) with
#   python -m rnadesign benchmark compare --stats --pool OUT_DIR/*-hybrid OUT_DIR/*-search
#
#   bash scripts/benchmark_pair.sh SEED [OUT_DIR] [DATASET] [LIMIT]
#   bash scripts/benchmark_pair.sh 2900 runs/pairs eterna100-v2 60    # about 20 min on 2 cores
#
# CANDIDATE=FILE makes it a pair of policies instead: `hybrid` with the shipped policy against `hybrid
# --policy FILE` (folders ...-shipped and ...-candidate), for judging a newly trained policy.
#
# Folders: OUT_DIR/DATASET-LIMITs-SEED-hybrid and ...-search. Interrupt it and run it again: finished
# attempts are kept. Run it from a copy of the package that is not edited meanwhile (an editable install
# picks up edits between attempts).
set -euo pipefail
seed="${1:?usage: benchmark_pair.sh SEED [OUT_DIR] [DATASET] [LIMIT]}"
out="${2:-runs/pairs}"
dataset="${3:-eterna100-v2}"
limit="${4:-60}"
base="$out/$dataset-${limit}s-$seed"
if [[ -n "${CANDIDATE:-}" ]]; then
    [[ -f "$CANDIDATE" ]] || { echo "CANDIDATE $CANDIDATE is not a file" >&2; exit 2; }
    names=(shipped candidate)
else
    names=(hybrid search)
fi
pids=()
for name in "${names[@]}"; do
    case "$name" in
        hybrid | shipped) args=(--method hybrid) ;;
        candidate) args=(--method hybrid --policy "$CANDIDATE") ;;
        search) args=(--method search) ;;
    esac
    python -m rnadesign benchmark "$dataset" "${args[@]}" --time-limit "$limit" --jobs 1 --seed "$seed" \
        --out "$base-$name" -q &
    pids+=("$!")
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
python -m rnadesign benchmark compare "$base-${names[0]}" "$base-${names[1]}"
exit "$status"
