"""Distributed meta-training: ranks found from torchrun's and srun's variables, gradients averaged and
clipped across ranks, ranks that stay in step, and a dead or hung rank that stops the group quickly."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
import torch.multiprocessing as mp

from rnadesign.config import AgentConfig, load_agent_config
from rnadesign.design import DesignSettings, design
from rnadesign.errors import ConfigError
from rnadesign.model.folding import DEFAULT_MODEL, fold
from rnadesign.model.structure import parse_structure
from rnadesign.rl.agent import make_ppo
from rnadesign.rl.distributed import AveragingAdam, Group, World, detect_world, weights_digest
from rnadesign.rl.meta import check_distributable
from rnadesign.rl.policy_file import load_policy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "TORCHELASTIC_"))}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    return {**env, "OMP_NUM_THREADS": "1", **extra}


def test_world_from_torchrun_and_srun_variables():
    assert detect_world({}) == World(0, 1)
    torchrun = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "MASTER_ADDR": "n1", "MASTER_PORT": "29400"}
    assert detect_world({**torchrun, "SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "2"}) == World(3, 4, 1, "n1", 29400)
    srun = {"SLURM_PROCID": "5", "SLURM_STEP_NUM_TASKS": "8", "SLURM_LOCALID": "1"}
    assert detect_world({**srun, "SLURM_STEP_NODELIST": "gpu[07-08,11],cpu1"}) == World(5, 8, 1, "gpu07")
    assert detect_world({**srun, "SLURM_STEP_NODELIST": "a,b", "MASTER_ADDR": "10.0.0.2"}).master_addr == "10.0.0.2"
    # The batch script itself (no srun): SLURM_NTASKS counts the job's tasks, not this process's group.
    assert detect_world({"SLURM_PROCID": "0", "SLURM_NTASKS": "8"}) == World(0, 1)
    with pytest.raises(ConfigError, match="WORLD_SIZE"):
        detect_world({"RANK": "0", "WORLD_SIZE": "two"})
    with pytest.raises(ConfigError, match="rank 4 is not in a group of 4"):
        detect_world({"RANK": "4", "WORLD_SIZE": "4"})


def _average_rank(rank: int, port: int, queue) -> None:
    torch.set_num_threads(1)
    group = Group(World(rank, 2, master_port=port), timeout_s=30)
    try:
        param = torch.nn.Parameter(torch.zeros(2))
        optimizer = AveragingAdam([param], lr=0.1, group=group, max_grad_norm=1.0, eps=1e-5)
        param.grad = torch.tensor([3.0, 0.0]) if rank == 0 else torch.tensor([-1.0, 4.0])
        optimizer.step()
        queue.put((rank, param.grad.tolist(), param.detach().tolist()))
    finally:
        group.close()


def test_averaging_adam_clips_the_average_of_the_ranks_gradients():
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_average_rank, args=(rank, port, queue)) for rank in range(2)]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    # The mean (1, 2) has norm sqrt(5): clipped to norm 1. Clipping each rank's own gradient first
    # would give ((1 - 0.2425) / 2, 0.9701 / 2) = (0.379, 0.485) instead.
    expected = [1 / 5**0.5, 2 / 5**0.5]
    for _, grad, _ in results:
        assert grad == pytest.approx(expected, abs=1e-6)
    assert results[0][2] == results[1][2]  # the same Adam step on both ranks
    assert results[0][2] == pytest.approx([-0.1, -0.1], abs=1e-4)  # Adam's first step: lr x sign


def test_target_kl_is_refused_in_a_group():
    agent = load_agent_config("meta-learna")
    model = make_ppo([parse_structure("((((....))))")], agent, DEFAULT_MODEL, seed=0)
    check_distributable(model)  # SB3's default, no target_kl
    model.target_kl = 0.01
    with pytest.raises(ConfigError, match="target_kl"):
        check_distributable(model)


def test_two_ranks_under_torchrun_train_one_policy(tmp_path, meta_train_args):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    cmd += meta_train_args(out, 4, "--resume", "auto", "--dist-timeout", "30", "--seed", "7")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150, env=_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no checkpoint in" in proc.stderr  # --resume auto on a fresh folder starts afresh
    card = json.loads(proc.stdout)  # rank 0 alone prints (and writes) the card
    dist = card["distributed"]
    assert dist["ranks"] == 2 and dist["updates"] >= 2, card
    assert dist["weights_sha256"][0] == dist["weights_sha256"][1]  # the ranks stayed in step
    assert dist["rank_seconds"] == pytest.approx(2 * card["trained_s"], abs=0.2)
    assert card["validation"]["n_targets"] == len(meta_train_args.targets)  # both ranks' shares counted
    policy = load_policy(out / "policy.safetensors")
    assert weights_digest(policy.state_dict) == dist["weights_sha256"][0]
    assert isinstance(policy.agent, AgentConfig) and policy.card["timesteps"] == card["timesteps"]
    saved = torch.load(out / "checkpoint.pt", weights_only=True)
    assert saved["progress"]["timesteps"] == card["timesteps"]
    target = "((((((....))))))"
    settings = DesignSettings(mode="meta-learna", policy=out / "policy.safetensors", time_limit=20, seed=1)
    result = design(target, settings)
    assert result.solved and fold(result.sequence)[0] == target


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP], ids=["dead", "hung"])
def test_a_lost_rank_stops_the_other_within_the_timeout(tmp_path, how, meta_train_args):
    out, timeout = tmp_path / "run", 4
    args = [sys.executable, *meta_train_args(out, 120, "--dist-timeout", str(timeout))]
    world = {"WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port())}  # as srun would
    ranks = [
        subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(RANK=str(r), **world)
        )
        for r in range(2)
    ]
    try:
        deadline = time.time() + 90
        while time.time() < deadline and not (out / "checkpoint.pt").exists():
            assert ranks[0].poll() is None, ranks[0].communicate()[1][-2000:]
            time.sleep(0.2)
        assert (out / "checkpoint.pt").exists()
        time.sleep(0.5)
        lost = time.time()
        ranks[1].send_signal(how)
        _, stderr = ranks[0].communicate(timeout=timeout + 30)
        waited = time.time() - lost
    finally:
        for proc in ranks:
            proc.kill()
            proc.communicate()
    assert ranks[0].returncode == 2, stderr[-2000:]
    assert "Traceback" not in stderr
    error = stderr.strip().splitlines()[-1]
    assert error.startswith("rnadesign: error: rank 0 of 2: lost the training group"), error
    assert f"--dist-timeout {timeout}s" in error
    # Dead: the socket closes at once. Hung: a collective waits out the timeout (plus one rollout).
    assert waited < (5 if how == signal.SIGKILL else timeout + 8), waited
    assert "restart the group with --resume" in stderr
