#!/usr/bin/env bash
# A benchmark across a SLURM cluster as one array job: task K of N runs shard K/N, every N-th
# (target, run) attempt from the K-th, into $OUT/results-shard-K-of-N.jsonl. Re-running a task
# (requeue, or sbatch again) skips the attempts its shard has recorded. When all are done, one
# command merges them (and refuses shards of other settings):
#
#   export OUT=/path/on/shared/fs/eterna100-v2-meta-learna-3600s
#   JOB=$(sbatch --parsable --export=ALL,OUT="$OUT" scripts/benchmark_slurm.sh)
#   sbatch --dependency=afterany:"$JOB" --wrap "rnadesign benchmark summary $OUT"
#   # or by hand, later: rnadesign benchmark summary "$OUT" && rnadesign benchmark compare "$OUT"
#
# The defaults are Eterna100-V2 x 5 runs x 1 h, the default mode: 500 attempts, 25 per task on 20
# tasks of 4 cores (4 attempts in parallel, each on one core), about 6.3 h per task. Change the
# array size, DATASET, METHOD, LIMIT and RUNS together with --time.
#SBATCH --job-name=benchmark
#SBATCH --array=1-20
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=08:00:00
#SBATCH --requeue
#SBATCH --output=benchmark-%A_%a.log
set -euo pipefail

: "${OUT:?set OUT to a folder on a filesystem every node mounts (see the top of this script)}"
SHARDS="${SLURM_ARRAY_TASK_COUNT:?run this as an array job (sbatch --array=1-N)}"
# Task ids 1..N whatever --array says (e.g. 0-19): the offset from the array's first id.
K=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-1} + 1))

exec rnadesign benchmark "${DATASET:-eterna100-v2}" --method "${METHOD:-meta-learna}" \
    --time-limit "${LIMIT:-3600}" --runs "${RUNS:-5}" --seed "${SEED:-0}" \
    --jobs "${SLURM_CPUS_PER_TASK:-1}" --out "$OUT" --shard "$K/$SHARDS" -q
