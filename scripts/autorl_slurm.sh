#!/usr/bin/env bash
# A multi-host BOHB search on a SLURM cluster, as one array job: task 0 runs the master (with its
# own nameserver), tasks 1..N run one worker each. They find each other through nameserver.json in
# a directory every node mounts, and refuse any peer that lacks the run's shared secret.
#
# Before submitting, once (the secret must not be readable by others):
#   export SHARED=/path/on/shared/fs/autorl-meta-1
#   mkdir -p "$SHARED" && (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' > "$SHARED/secret")
#   sbatch --export=ALL,SHARED="$SHARED" scripts/autorl_slurm.sh
# Afterwards (any node):
#   autorl report "$SHARED" && autorl best "$SHARED" --export meta-preset.json
#
# The settings below are the paper's Meta-LEARNA search (400..3600 s of meta-training per
# evaluation); change TASK and the budgets for a LEARNA search. Every task runs on one core.
# Only the master is given the task: it writes it to $SHARED/run.json, and the workers (whose --dir
# is the master's --out) read it there, so the two cannot disagree.
#SBATCH --job-name=autorl
#SBATCH --array=0-20
#SBATCH --cpus-per-task=1
#SBATCH --mem=4G
#SBATCH --time=24:00:00
#SBATCH --output=autorl-%A_%a.log
set -euo pipefail

: "${SHARED:?set SHARED to a directory on a filesystem every node mounts (see the top of this script)}"
SECRET_FILE="$SHARED/secret"
[ -s "$SECRET_FILE" ] || { echo "no secret at $SECRET_FILE (see the top of this script)" >&2; exit 2; }

RUN_ID="autorl-${SLURM_ARRAY_JOB_ID}"
HOST="$(hostname -I | awk '{print $1}')"  # this node's cluster address: peers connect to it
TASK=(--mode meta --targets meta-validation --train meta-train --seed 0)
NETWORK=(--run-id "$RUN_ID" --host "$HOST" --dir "$SHARED" --secret-file "$SECRET_FILE")

if [ "${SLURM_ARRAY_TASK_ID}" -eq 0 ]; then
    exec autorl master "${TASK[@]}" "${NETWORK[@]}" --out "$SHARED" \
        --min-budget 400 --max-budget 3600 --eta 3 --n-iterations 8 --min-workers 4
else
    # Workers may start before the master: they wait for its nameserver.json (--wait-for-master),
    # then read the task from its run.json in the same directory.
    exec autorl worker "${NETWORK[@]}" --wait-for-master 3600 --idle-timeout 7200
fi
