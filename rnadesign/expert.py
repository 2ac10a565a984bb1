"""Expert iteration: the search designs, the policy learns to propose what the search found.

Each round draws structures from the meta-training set (shortest first within the round), designs
each one with the designer (``hybrid`` with the current policy as its prior, by default), keeps the
solved designs, and trains the policy network to propose them: a cross-entropy step on every decision
site (the target's structure window -> the base or pair the solved design holds there). The next round
designs with the new policy, so a better prior makes its search faster. The shipped policy sees the
target's structure alone (``include_sequence`` off), so a site's decision depends on its window only
and a solved design is a set of independent labelled examples.

Most meta-training structures are easy for the designer (half are solved in 0.03 s, 99% within 0.7 s
in the run behind the shipped ``expert`` policy), so a network trained on every solved design learns the
designer's first guesses back. With ``hard_after`` a round learns only the designs the designer needed
longer than that to find (weighted by ``hard_weight``), beside a ``replay`` of an earlier run's designs
that keeps what the network knew: the network is taught what the search had to work for.

Everything a round produces is saved as it is produced, so a killed run resumes where it stopped:
``designs.jsonl`` (one record a designed structure, appended and fsynced), ``round-K.safetensors``
(the policy after round K, written atomically), ``rounds.jsonl`` (per round: designs solved, training
loss, validation). ``--resume`` skips the structures already designed and the rounds already trained.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .config import AgentConfig
from .config.checks import check_range
from .errors import ConfigError
from .files import append_json_line, atomic_write_json, read_json_lines
from .model.folding import DEFAULT_MODEL, FoldingModel, fold, vienna_version
from .model.structure import Structure, parse_structure
from .rl.env import PAD, PAIR_ACTIONS, UNPAIRED_ACTIONS, structure_windows
from .rl.numpy_policy import NumpyPolicy
from .rl.policy_file import PolicyFile, load_policy, save_policy

__all__ = [
    "ExpertSettings",
    "decision_labels",
    "decision_windows",
    "expert_iteration",
    "fit_policy",
    "sampled_solved",
    "training_set",
]

_log = logging.getLogger("rnadesign.expert")

#: The environment's pair actions as strings (opening, closing), for look-ups of a design's pairs.
_PAIRS = tuple(a + b for a, b in PAIR_ACTIONS)


@dataclasses.dataclass(frozen=True)
class ExpertSettings:
    """One expert-iteration run."""

    rounds: int = 20
    """Rounds of (design, train)."""
    structures_per_round: int = 300
    """Meta-training structures designed per round."""
    max_length: int = 150
    """Structures longer than this are left out (short targets design fast on a laptop)."""
    min_length: int = 1
    """Structures shorter than this are left out (short ones are rarely hard for the designer)."""
    mode: str = "hybrid"
    """Design mode of the expert (``hybrid`` uses the current policy as prior and proposer)."""
    time_limit: float = 5.0
    """Seconds per structure."""
    epochs: int = 4
    """Passes over all solved designs so far, per round."""
    learning_rate: float = 1e-3
    batch_size: int = 512
    validation_targets: int = 100
    """Targets of the validation set scored after each round."""
    samples: int = 32
    """Policy samples per validation target (no search: the policy's own designs)."""
    seed: int = 0
    hard_after: float = 0.0
    """Above 0, learn what the designer finds hard: a solved design that took longer than this many
    seconds counts ``hard_weight`` times in training and one found sooner is recorded but not learnt
    (``replay`` keeps what the network knew). 0: every solved design is learnt once."""
    hard_weight: int = 1
    hard_length_exponent: float = 0.0
    """Above 0, ``hard_after`` is the threshold for a 100-nt structure and scales with
    ``(length / 100) ** hard_length_exponent``: the designer's time grows about with the cube of the
    length (measured on generated structures of 40-200 nt: median 0.007 s at 40-70 nt, 0.2 s at 150-200),
    so a fixed threshold picks mostly long structures and misses short ones that needed a search."""
    replay: str = ""
    """An earlier run's ``designs.jsonl``: its solved designs join every round's training set."""

    def __post_init__(self) -> None:
        for name in ("rounds", "structures_per_round", "max_length", "epochs", "batch_size", "samples", "hard_weight"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.time_limit > 0 or not self.learning_rate > 0:
            raise ConfigError("time_limit and learning_rate must be positive")
        if self.min_length > self.max_length:
            raise ConfigError(f"min_length {self.min_length} is above max_length {self.max_length}")
        if not 0 <= self.hard_after < self.time_limit:
            raise ConfigError(f"hard_after must be at least 0 and below time_limit, got {self.hard_after}")
        check_range("hard_length_exponent", self.hard_length_exponent, 0, 4)


# -- examples -------------------------------------------------------------------------------------


def _check_agent(agent: AgentConfig) -> None:
    if agent.env.include_sequence:
        raise ConfigError("expert iteration trains policies that see the structure alone (include_sequence off)")


def decision_windows(target: Structure, agent: AgentConfig) -> np.ndarray:
    """The observation at each decision site (every site but a pair's closing one), as the environment
    gives it: the structure codes in a window of ``agent.env.window`` around the site, padded."""
    _check_agent(agent)
    return structure_windows(target, agent.env)


def decision_labels(target: Structure, sequence: str) -> np.ndarray:
    """Per decision site, the action that places what ``sequence`` holds there; -1 where no action can
    (a G-U pair: the environment places Watson-Crick pairs only)."""
    labels = []
    for i, c in enumerate(target.dot_bracket):
        if c == ")":
            continue
        j = target.pairs[i]
        if j < 0:
            labels.append(UNPAIRED_ACTIONS.index(sequence[i]))
        else:
            pair = sequence[i] + sequence[j]
            labels.append(_PAIRS.index(pair) if pair in _PAIRS else -1)
    return np.array(labels, dtype=np.int64)


def examples(records: Sequence[dict[str, Any]], agent: AgentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Windows and labels of every decision site of the solved designs in ``records``."""
    windows, labels = [], []
    for record in records:
        if not record.get("solved"):
            continue
        target = parse_structure(record["target"])
        y = decision_labels(target, record["sequence"])
        keep = y >= 0
        windows.append(decision_windows(target, agent)[keep])
        labels.append(y[keep])
    if not windows:
        return np.zeros((0, agent.env.window), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(windows), np.concatenate(labels)


def _hard(record: dict[str, Any], settings: ExpertSettings) -> bool:
    """A solved design the designer took longer than ``hard_after`` to find (scaled to the target's
    length by ``hard_length_exponent``)."""
    threshold = settings.hard_after * (len(record["target"]) / 100) ** settings.hard_length_exponent
    return bool(record.get("solved")) and record["time_s"] > threshold


def training_set(
    records: Sequence[dict[str, Any]], replay: Sequence[dict[str, Any]], settings: ExpertSettings, agent: AgentConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The examples a round learns: with ``hard_after``, the solved designs that took the designer longer
    than that, each ``hard_weight`` times; without it every solved design; and the replayed designs."""
    if settings.hard_after > 0:
        records = [r for r in records if _hard(r, settings)]
    windows, labels = examples(records, agent)
    replay_windows, replay_labels = examples(replay, agent)
    weight = settings.hard_weight if settings.hard_after > 0 else 1
    return (
        np.concatenate([*[windows] * weight, replay_windows]),
        np.concatenate([*[labels] * weight, replay_labels]),
    )


# -- training -------------------------------------------------------------------------------------


def _torch_policy(agent: AgentConfig, state_dict: dict[str, Any]):
    """SB3's ActorCriticPolicy with this agent's network, holding ``state_dict``."""
    import torch
    from gymnasium import spaces
    from stable_baselines3.common.policies import ActorCriticPolicy

    from .rl.policies import policy_kwargs

    space = spaces.Box(low=0, high=PAD, shape=(agent.env.window,), dtype=np.int64)
    policy = ActorCriticPolicy(space, spaces.Discrete(4), lambda _: 0.0, **policy_kwargs(agent))
    policy.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state_dict.items()})
    return policy


def fit_policy(
    agent: AgentConfig,
    state_dict: dict[str, Any],
    windows: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    seed: int,
) -> tuple[dict[str, np.ndarray], float]:
    """Train the policy branch to propose ``labels`` at ``windows`` (cross-entropy, Adam), starting from
    ``state_dict``. Returns the new weights (every key of ``state_dict``) and the last epoch's mean loss."""
    import torch

    torch.manual_seed(seed)
    policy = _torch_policy(agent, state_dict)
    # The policy branch only: features extractor, policy MLP, action head; the value branch is untouched.
    params = [p for n, p in policy.named_parameters() if not n.startswith(("value_net", "mlp_extractor.value_net"))]
    optimiser = torch.optim.Adam(params, lr=learning_rate)
    x = torch.as_tensor(windows, dtype=torch.float32)
    y = torch.as_tensor(labels)
    rng = np.random.default_rng(seed)
    loss_mean = float("nan")
    for _ in range(epochs):
        order = rng.permutation(len(y))
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = torch.as_tensor(order[start : start + batch_size])
            logits = policy.get_distribution(x[batch]).distribution.logits
            loss = torch.nn.functional.cross_entropy(logits, y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        loss_mean = total / max(1, len(order))
    weights = {k: v.detach().cpu().numpy().copy() for k, v in policy.state_dict().items()}
    return {k: weights[k] for k in state_dict}, loss_mean


# -- validation -----------------------------------------------------------------------------------


def sampled_solved(
    agent: AgentConfig,
    state_dict: dict[str, Any],
    targets: Sequence[Structure],
    samples: int,
    seed: int,
    folding: FoldingModel = DEFAULT_MODEL,
) -> dict[str, float]:
    """The policy alone (no search): ``samples`` designs per target drawn from it, each folded. Returns
    the targets solved, their share, and the mean log-likelihood per decision of the best-folding design
    (a fixed count of samples, not a time limit: the same weights and seed give the same score)."""
    network = NumpyPolicy(agent, state_dict)
    rng = np.random.default_rng(seed)
    solved = 0
    for target in targets:
        probabilities = network.probabilities(decision_windows(target, agent))
        cumulative = probabilities.cumsum(axis=1)
        draws = (rng.random((samples, len(probabilities), 1)) > cumulative[None]).sum(axis=2).clip(0, 3)
        sites = target.decision_sites()
        for actions in draws:
            letters = ["A"] * len(target)
            for site, action in zip(sites, actions):
                j = target.pairs[site]
                if j < 0:
                    letters[site] = UNPAIRED_ACTIONS[action]
                else:
                    letters[site], letters[j] = PAIR_ACTIONS[action]
            if fold("".join(letters), folding)[0] == target.dot_bracket:
                solved += 1
                break
    return {"solved": solved, "targets": len(targets), "share": solved / max(1, len(targets))}


# -- the run --------------------------------------------------------------------------------------


def _round_structures(train: Sequence[str], settings: ExpertSettings, round_index: int) -> list[tuple[int, str]]:
    """The structures of one round: a seeded draw without replacement across rounds among those of
    ``min_length`` to ``max_length``, shortest first within the round (index into ``train`` kept)."""
    eligible = [i for i, s in enumerate(train) if settings.min_length <= len(s) <= settings.max_length]
    order = np.random.default_rng(settings.seed).permutation(len(eligible))
    chunk = order[round_index * settings.structures_per_round : (round_index + 1) * settings.structures_per_round]
    picked = [(eligible[k], train[eligible[k]]) for k in chunk]
    return sorted(picked, key=lambda p: (len(p[1]), p[0]))


def _read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _design_one(task: tuple[int, int, str, Path], settings: ExpertSettings) -> dict[str, Any]:
    """The record of one designed structure (``task``: round, index into the training set, structure,
    policy file), seeded by the run's seed and the index."""
    from .design import DesignSettings, design

    k, index, structure, policy = task
    seed = settings.seed * 1_000_003 + index
    result = design(
        structure, DesignSettings(mode=settings.mode, time_limit=settings.time_limit, seed=seed, policy=policy)
    )
    return {
        "round": k,
        "index": index,
        "target": structure,
        "sequence": result.sequence,
        "solved": bool(result.solved),
        "distance": result.distance,
        "time_s": round(result.time_s, 3),
    }


def _design_all(
    tasks: list[tuple[int, int, str, Path]], settings: ExpertSettings, log: Path, jobs: int, deadline: float | None
) -> bool:
    """Design ``tasks`` (``jobs`` at a time), each record appended to ``log`` as it comes. False when the
    deadline passed before every task started (the ones started are finished and kept)."""

    def spent() -> bool:
        return deadline is not None and time.monotonic() > deadline

    if jobs == 1:
        for task in tasks:
            if spent():
                return False
            append_json_line(log, _design_one(task, settings))
        return True
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    queue = list(reversed(tasks))
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        running: set = set()
        while queue or running:
            while queue and len(running) < jobs and not spent():
                running.add(pool.submit(_design_one, queue.pop(), settings))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                append_json_line(log, future.result())
    return not queue


def expert_iteration(
    out: str | Path,
    train_file: str | Path,
    validation_file: str | Path,
    start_policy: str | Path,
    settings: ExpertSettings,
    resume: bool = False,
    time_budget: float | None = None,
    jobs: int = 1,
) -> Path:
    """Run (or resume) expert iteration into ``out``; returns the newest policy file.

    ``time_budget``: stop after this many seconds of this call (no design starts after it; those
    running finish and are kept; the round is resumed by ``resume``), so a leg fits a session.
    ``jobs``: structures designed at once, each in its own process (one a core).
    """
    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, got {jobs}")
    if settings.replay and not Path(settings.replay).is_file():
        raise ConfigError(f"replay file {settings.replay} does not exist")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not resume:
        raise ConfigError(f"{out} is not empty: pass resume to continue the run there, or choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    deadline = None if time_budget is None else time.monotonic() + time_budget
    manifest = out / "settings.json"
    if manifest.exists():
        # a run started before a setting existed ran with its default
        recorded = {**dataclasses.asdict(ExpertSettings()), **json.loads(manifest.read_text(encoding="utf-8"))}
        if recorded != dataclasses.asdict(settings):
            raise ConfigError(f"{out} was started with other settings: {recorded}")
    else:
        atomic_write_json(manifest, dataclasses.asdict(settings))
    replay = read_json_lines(settings.replay) if settings.replay else []
    train = _read_lines(Path(train_file))
    validation = [parse_structure(s) for s in _read_lines(Path(validation_file))[: settings.validation_targets]]
    policy = load_policy(start_policy)
    agent = policy.agent
    _check_agent(agent)
    current = Path(start_policy)
    rounds_log = out / "rounds.jsonl"
    designs_log = out / "designs.jsonl"
    if not read_json_lines(rounds_log):
        score = sampled_solved(agent, policy.state_dict, validation, settings.samples, settings.seed)
        append_json_line(rounds_log, {"round": -1, "policy": str(start_policy), "validation": score})
        _log.info("start policy: validation %d/%d solved by sampling", score["solved"], score["targets"])
    for k in range(settings.rounds):
        path = out / f"round-{k}.safetensors"
        # A round's policy is written last, atomically: the round is whole. A later round's file also
        # means this one is done (a run kept with its newest policy only, as the checkout keeps ei-1).
        if path.exists():
            current, policy = path, load_policy(path)
            continue
        if any((out / f"round-{j}.safetensors").exists() for j in range(k + 1, settings.rounds)):
            continue
        picked = _round_structures(train, settings, k)
        if not picked:
            # every eligible structure has been designed: more rounds would only train on the same designs
            _log.info("round %d: no training structures left (each is designed once); the run ends here", k)
            return current
        designed = {r["index"] for r in read_json_lines(designs_log) if r["round"] == k}
        round_started = time.monotonic()
        todo = [(k, index, structure, current) for index, structure in picked]
        todo = [task for task in todo if task[1] not in designed]
        if not _design_all(todo, settings, designs_log, jobs, deadline):
            _log.info("time budget spent in round %d; resume to continue", k)
            return current
        records = read_json_lines(designs_log)
        this_round = [r for r in records if r["round"] == k]
        windows, labels = training_set(records, replay, settings, agent)
        weights, loss = fit_policy(
            agent,
            policy.state_dict,
            windows,
            labels,
            settings.epochs,
            settings.learning_rate,
            settings.batch_size,
            settings.seed + k,
        )
        score = sampled_solved(agent, weights, validation, settings.samples, settings.seed)
        solved = sum(r["solved"] for r in this_round)
        hard = sum(_hard(r, settings) for r in this_round)
        card = {
            "method": "expert iteration (rnadesign.expert)",
            "start_policy": str(start_policy),
            "rounds": k + 1,
            "designs_solved": int(sum(r["solved"] for r in records)),
            "designs": len(records),
            "examples": len(labels),
            "settings": dataclasses.asdict(settings),
            "validation": score,
            "vienna": vienna_version(),
        }
        save_policy(path, agent, weights, card)
        mean_time = round(float(np.mean([r["time_s"] for r in this_round] or [0])), 3)
        designs = {"round": k, "designed": len(this_round), "solved": int(solved), "solved_hard": int(hard)}
        training = {"mean_time_s": mean_time, "examples": len(labels), "loss": round(loss, 4), "validation": score}
        append_json_line(rounds_log, {**designs, **training, "wall_s": round(time.monotonic() - round_started, 1)})
        shown = (solved, len(this_round), len(labels), loss, score["solved"], score["targets"])
        _log.info("round %d: %d/%d solved, %d examples, loss %.3f, validation %d/%d", k, *shown)
        current, policy = path, PolicyFile(agent, weights, card)
    return current
