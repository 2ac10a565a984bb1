#!/usr/bin/env bash
# Distributed meta-training on a SLURM cluster: one torchrun per node (srun), RANKS_PER_NODE ranks on
# each, found through torchrun's c10d rendezvous on the first node. The ranks train one policy
# data-parallel (rnadesign/distributed.py); rank 0 writes $OUT/checkpoint.pt every CHECKPOINT_EVERY
# seconds, $OUT/validation.csv, TensorBoard under $OUT/tensorboard and finally $OUT/policy.safetensors.
#
#   export OUT=/path/on/shared/fs/meta-1     # every node must see it: rank 0 writes, a restart reads
#   sbatch --export=ALL,OUT="$OUT" scripts/meta_train_slurm.sh
#   # later, anywhere: python scripts/ship_policy.py "$OUT/policy.safetensors"
#
# Surviving failures, in three layers:
# - a rank that dies or hangs makes the others fail within --dist-timeout seconds (not gloo's 30 min);
#   torchrun then restarts the whole group (--max-restarts), which goes on from the last checkpoint;
# - preemption or a node failure: SLURM requeues the job (--requeue), and the same command line
#   resumes (--resume auto: from the checkpoint if there is one, afresh otherwise);
# - the time limit: SLURM signals the batch shell 5 minutes before it (--signal); the trap below stops
#   the step (each rank gets SIGTERM, rank 0 writes a checkpoint) and requeues the job for another leg.
# The training budget (BUDGET seconds) counts over all legs: a leg ends early once it is spent.
#SBATCH --job-name=meta-train
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=16
#SBATCH --mem=32G
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --signal=B:USR1@300
#SBATCH --output=meta-train-%j.log
set -euo pipefail

: "${OUT:?set OUT to a folder on a filesystem every node mounts (see the top of this script)}"
BUDGET="${BUDGET:-14400}"                   # training seconds in all (the paper's Meta-LEARNA: 1 h on 20 cores)
RANKS_PER_NODE="${RANKS_PER_NODE:-${SLURM_CPUS_PER_TASK:-1}}"  # one core per rank, one env each
CHECKPOINT_EVERY="${CHECKPOINT_EVERY:-300}"
DIST_TIMEOUT="${DIST_TIMEOUT:-300}"         # longer than any rank's pause (checkpoint, validation share)
MASTER="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"
PORT="${PORT:-29400}"
mkdir -p "$OUT"

requeue() {
    echo "time limit near: stopping the ranks (rank 0 checkpoints) and requeueing job $SLURM_JOB_ID"
    scancel --signal=TERM "$SLURM_JOB_ID"   # the steps only, not this shell: torchrun passes it on
    wait "$STEP" || true
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
}
trap requeue USR1

# One srun task per node; torchrun starts the ranks and restarts the group when one of them fails.
srun --ntasks-per-node=1 --kill-on-bad-exit=0 \
    python -m torch.distributed.run \
        --nnodes "$SLURM_NNODES" --nproc-per-node "$RANKS_PER_NODE" \
        --rdzv-backend c10d --rdzv-endpoint "$MASTER:$PORT" --rdzv-id "meta-$SLURM_JOB_ID" \
        --max-restarts 3 \
    -m rnadesign meta-train --time-budget "$BUDGET" --out "$OUT" --resume auto \
        --workers 1 --checkpoint-every "$CHECKPOINT_EVERY" --validate-every 1800 \
        --dist-timeout "$DIST_TIMEOUT" --seed "${SEED:-0}" &
STEP=$!
wait "$STEP"
