"""Meta-training (checkpoint, kill, resume), the meta design modes and policy files."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from rnadesign.design import DesignSettings, design
from rnadesign.model.folding import fold
from rnadesign.rl.policy_file import PolicyFileError, default_policy_path, load_policy


@pytest.fixture
def meta_cmd(meta_train_args):
    """The command of a short one-worker meta-training run (``meta_train_args``)."""
    return lambda out, budget, *extra: [
        sys.executable,
        *meta_train_args(out, budget, "--workers", "1", "--config", "meta-learna", *extra),
    ]


def test_killed_meta_training_resumes_from_its_checkpoint(tmp_path, meta_cmd):
    out = tmp_path / "run"
    proc = subprocess.Popen(meta_cmd(out, 60), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    checkpoint = out / "checkpoint.pt"
    deadline = time.time() + 90
    while time.time() < deadline and not checkpoint.exists():
        time.sleep(0.2)
    time.sleep(1.2)  # let it train a little past the first checkpoint (written every second)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists(), proc.stderr.read().decode()[-2000:]
    saved = torch.load(checkpoint, weights_only=True)
    assert saved["progress"]["timesteps"] > 0
    before = saved["progress"]["elapsed_s"]
    assert not (out / "policy.safetensors").exists()

    done = subprocess.run(meta_cmd(out, before + 2, "--resume"), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resuming from" in done.stderr
    card = json.loads(done.stdout)
    assert card["timesteps"] > saved["progress"]["timesteps"]
    assert card["trained_s"] >= before + 2 - 0.05  # the card rounds to 0.1 s
    policy = load_policy(out / "policy.safetensors")
    assert policy.card["timesteps"] == card["timesteps"]
    assert (out / "validation.csv").read_text().count("\n") >= 2
    assert any((out / "tensorboard").iterdir())
    # The new policy designs through the CLI.
    target = "((((((....))))))"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnadesign",
            "design",
            target,
            "--mode",
            "meta-learna",
            "--policy",
            str(out / "policy.safetensors"),
            "-t",
            "30",
            "-f",
            "json",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["solved"] and fold(record["sequence"])[0] == target


def test_resume_without_checkpoint_is_a_clear_error(tmp_path, meta_cmd):
    proc = subprocess.run(meta_cmd(tmp_path / "none", 5, "--resume"), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no checkpoint" in proc.stderr and "Traceback" not in proc.stderr


def test_shipped_policy_loads():
    policy = load_policy(default_policy_path())
    assert policy.card["training_targets"] > 1000
    assert policy.card["vienna_version"]
    assert policy.agent.network.embedding_size == 2  # the paper's Meta-LEARNA network


@pytest.mark.parametrize("mode", ["meta-learna", "meta-learna-adapt"])
def test_meta_modes_design_and_the_test_refolds(mode, taneda):
    for target in ["((((((....))))))...((((....))))", taneda(8)]:
        result = design(target, DesignSettings(mode=mode, time_limit=60, seed=3))
        assert result.solved, (mode, target, result.distance)
        assert fold(result.sequence)[0] == target


def test_bad_policy_files(tmp_path):
    with pytest.raises(PolicyFileError, match="no such policy file"):
        load_policy(tmp_path / "missing.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(default_policy_path().read_bytes()[:2000])
    with pytest.raises(PolicyFileError, match="truncated or foreign"):
        load_policy(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(PolicyFileError, match="not an rnadesign policy file"):
        load_policy(foreign)
    # A file that would run code when unpickled is refused, not executed.
    import pickle

    class Exploit:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"format": "rnadesign-policy-1", "x": Exploit()}, protocol=2))
    with pytest.raises(PolicyFileError):
        load_policy(evil)
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(ValueError, match="policy file"):
        design(
            "((((....))))",
            DesignSettings(mode="meta-learna", time_limit=5),
            agent=load_policy(default_policy_path()).agent,
        )


@pytest.mark.parametrize("mode", ["meta-learna", "hybrid", "search"])
def test_the_policy_modes_sample_without_torch_and_the_test_refolds(mode):
    """meta-learna and hybrid run the shipped policy in NumPy (search, the default, has none): no torch
    import, reproducible by seed."""
    code = (
        "import sys, json; from rnadesign.design import DesignSettings, design; "
        f"r = [design('((((((....))))))...((((....))))', DesignSettings(mode={mode!r}, time_limit=20, seed=7)) "
        "for _ in range(2)]; "
        "print(json.dumps([r[0].sequence, r[1].sequence, r[0].solved, 'torch' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    first, second, solved, torch_loaded = json.loads(out.stdout)
    assert solved and first == second and not torch_loaded
    assert fold(first)[0] == "((((((....))))))...((((....))))"


def test_a_policy_file_of_the_first_format_still_loads(tmp_path):
    """Policy files written before the safetensors format (a torch.save of the same dictionary)."""
    policy = load_policy(default_policy_path())
    old = tmp_path / "old.pt"
    torch.save(
        {
            "format": "rnadesign-policy-1",
            "agent": policy.agent.to_dict(),
            "card": policy.card,
            "state_dict": {k: torch.as_tensor(v) for k, v in policy.state_dict.items()},
        },
        old,
    )
    again = load_policy(old)
    assert again.agent == policy.agent and again.card == policy.card
    target = "((((((....))))))"
    result = design(target, DesignSettings(mode="meta-learna", time_limit=20, seed=1, policy=old))
    assert result.solved and fold(result.sequence)[0] == target


def test_validation_is_not_training_time_and_an_early_stop_leaves_a_checkpoint(tmp_path, meta_train_args):
    """The default validation interval (600 s) must not validate the untrained policy at the first step,
    and validating must not eat the training budget."""
    out = tmp_path / "run"
    train = meta_train_args.train
    cmd = [sys.executable, "-m", "rnadesign", "meta-train", "--train", str(train), "--validation", str(train)]
    cmd += ["--time-budget", "2", "--out", str(out), "--validation-episodes", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    card = json.loads(done.stdout)
    rows = (out / "validation.csv").read_text().strip().splitlines()
    assert len(rows) == 2  # the header and the final validation only
    assert 1.5 <= card["trained_s"] <= 3 and card["timesteps"] > 100


def test_sigterm_writes_a_checkpoint_before_the_first_interval(tmp_path, meta_cmd):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        meta_cmd(out, 600, "--checkpoint-every", "600"),  # the later value of an option wins
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr:  # training has started once this line is out
        if "meta-training on" in line:
            break
    time.sleep(1.5)  # training, far from any checkpoint interval
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr  # 128 + SIGTERM, as for every command (Ctrl-C: 130)
    assert (out / "checkpoint.pt").exists() and "checkpoint written" in stderr
    trained = torch.load(out / "checkpoint.pt", weights_only=True)["progress"]["elapsed_s"]
    assert trained > 0
    resumed = subprocess.run(meta_cmd(out, trained + 1, "--resume"), capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
