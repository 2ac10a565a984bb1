"""PriorBand (Mallik et al. 2023, via NePS) beside BOHB: a search that starts from an expert's belief.

The prior is a configuration with a confidence per hyperparameter: the paper's best LEARNA or
Meta-LEARNA configuration (the presets, mapped back onto the space by
:func:`autorl.space.from_agent_config`), the space's defaults (``default``), or a JSON file: an
export of ``autorl best --export`` (its ``search.config``), an rnadesign configuration file
(``{"agent": ...}`` or ``{"env", "network", "ppo"}``), or ``{"config": {...}, "confidence": {...}}``.
Confidences are NePS's ``low``/``medium``/``high``; by default the hyperparameters the paper's BOHB
tuned are ``medium`` and the rest (PPO settings the paper had no counterpart for, set to SB3's
defaults) ``low``; a file's ``confidence`` overrides them one by one.

The space comes from :func:`autorl.space.dimensions`, as BOHB's does. NePS has no conditions: a
conditional hyperparameter (a conv layer's channels) is searched always, and left out of the
configuration an evaluation receives and the log records when its parent switches it off, so
the log reads as a BOHB run's does (``autorl best``, ``report``, ``analyze``).

Each evaluation is appended to the same live log as BOHB's (:mod:`autorl.resultlog`'s format):
NePS's trial ``N_R`` (configuration N at rung R) is config id ``[N, 0, 0]``, so a configuration's
results on its budgets share one id, as BOHB's do. NePS keeps its own state in ``OUT/neps``; its
workers share that directory, so several processes (or SLURM tasks) may serve one run.

The run stops once the budgets spent add up to what BOHB's ``n_iterations`` brackets would spend
(:func:`bohb_fidelity`), so the two optimizers get the same compute.

Needs the ``priorband`` extra: ``pip install torch==2.13.0 -e ".[priorband]"`` in one command (alone,
pip takes the newest torchvision, which replaces torch with another build).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from rnadesign.files import append_json_line

from .compat import plain
from .errors import AutoRLError
from .resultlog import CONFIGS, RESULTS, read_configs
from .runfile import newest_run
from .space import active, dimensions, from_agent_config

__all__ = ["CONFIDENCES", "PRIORS", "bohb_fidelity", "load_prior", "neps_space", "run_priorband"]

_log = logging.getLogger("autorl.priorband")  # also when run as __main__ (a worker process)

#: Named priors: the paper's best configurations (rnadesign's presets) and the space's defaults.
PRIORS = ("learna", "meta-learna", "default")
CONFIDENCES = ("low", "medium", "high")
FIDELITY = "budget"
NEPS_DIR = "neps"

#: What the paper's BOHB tuned (docs/design.md): a prior taken from its result is believed more.
_PAPER_TUNED = {
    "learning_rate", "batch_size", "entropy_regularization", "reward_exponent", "state_radius_relative",
    "embedding_size", "conv_radius1", "conv_channels1", "conv_radius2", "conv_channels2", "num_fc_layers",
    "fc_units", "num_lstm_layers", "lstm_units",
}  # fmt: skip


def _neps():
    try:
        import neps
    except ImportError:
        raise AutoRLError(
            "PriorBand needs NePS: pip install torch==2.13.0 -e '.[priorband]' (in one command, or pip replaces torch)"
        ) from None
    return neps


def load_prior(spec: str, mode: str) -> dict[str, Any]:
    """``{"name", "config", "confidence"}``: a named prior (:data:`PRIORS`) or a JSON file (module docstring).

    Raises:
        AutoRLError: an unknown name, an unreadable file, or values that are not in the ``mode`` space.
    """
    from rnadesign.config import AgentConfig, load_agent_config
    from rnadesign.errors import RnaDesignError

    dims = {d.name: d for d in dimensions(mode)}
    confidence = {n: "medium" if n in _PAPER_TUNED or mode == "hybrid" else "low" for n in dims}
    if spec == "default":
        config = active({d.name: d.default for d in dims.values() if d.default is not None}, mode)
        return {"name": "default", "config": config, "confidence": confidence}
    if spec in ("learna", "meta-learna"):
        return {"name": spec, "config": from_agent_config(load_agent_config(spec), mode), "confidence": confidence}
    path = Path(spec)
    if not path.is_file():
        raise AutoRLError(f"unknown prior {spec!r}: choose one of {', '.join(PRIORS)} or give a JSON file")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AutoRLError(f"{path}: not a readable JSON prior ({err})") from None
    if not isinstance(document, dict):
        raise AutoRLError(f"{path}: a prior is a JSON object")
    if isinstance(document.get("search"), dict) and "config" in document["search"]:
        config = document["search"]["config"]  # autorl best --export
    elif isinstance(document.get("config"), dict):
        config = document["config"]
    else:
        try:
            agent = AgentConfig.from_dict(document.get("agent", document), name=path.stem)
        except (RnaDesignError, TypeError, ValueError, KeyError) as err:
            raise AutoRLError(f"{path}: neither an export, a {{'config': ...}} prior nor an agent ({err})") from None
        config = from_agent_config(agent, mode)
    unknown = sorted(set(config) - set(dims))
    if unknown:
        raise AutoRLError(f"{path}: {', '.join(unknown)} not in the {mode} space")
    for name, level in (document.get("confidence") or {}).items():
        if name not in dims or level not in CONFIDENCES:
            raise AutoRLError(f"{path}: confidence {name}={level!r}: a hyperparameter of the space, and one of "
                              f"{', '.join(CONFIDENCES)}")  # fmt: skip
        confidence[name] = level
    for name, value in config.items():
        d = dims[name]
        inside = value in d.choices if d.kind == "categorical" else d.bounds[0] <= float(value) <= d.bounds[1]
        if not inside:
            raise AutoRLError(f"{path}: {name}={value!r} is outside the {mode} space")
    return {"name": path.name, "config": plain(active(config, mode)), "confidence": confidence}


def neps_space(mode: str, prior: dict[str, Any], min_budget: float, max_budget: float):
    """The NePS space of a ``mode`` search, from :func:`autorl.space.dimensions`, centred on ``prior``.

    A hyperparameter the prior leaves out (a child its parent switches off) takes its default as
    prior, with ``low`` confidence.
    """
    neps = _neps()
    attributes: dict[str, Any] = {}
    for d in dimensions(mode):
        value = prior["config"].get(d.name)
        level = prior["confidence"].get(d.name, "low")
        if value is None:
            value, level = d.default, "low"
        belief = {} if value is None else {"prior": value, "prior_confidence": level}
        if d.kind == "categorical":
            if belief:
                belief["prior"] = d.choices.index(value)
            attributes[d.name] = neps.Categorical(d.choices, **belief)
        elif d.kind == "int":
            belief = {**belief, "prior": int(value)} if belief else belief
            attributes[d.name] = neps.Integer(int(d.bounds[0]), int(d.bounds[1]), log=d.log, **belief)
        else:
            belief = {**belief, "prior": float(value)} if belief else belief
            attributes[d.name] = neps.Float(float(d.bounds[0]), float(d.bounds[1]), log=d.log, **belief)
    attributes[FIDELITY] = neps.Fidelity(neps.Float(float(min_budget), float(max_budget)))
    return type(f"RnaDesign{mode.title()}Space", (neps.PipelineSpace,), attributes)()


def bohb_fidelity(min_budget: float, max_budget: float, eta: float, n_iterations: int) -> float:
    """The budget BOHB's first ``n_iterations`` successive-halving brackets spend in all (hpbandster's schedule)."""
    max_sh_iter = -int(math.log(min_budget / max_budget) / math.log(eta)) + 1
    budgets = [max_budget * eta ** (-(max_sh_iter - 1 - i)) for i in range(max_sh_iter)]
    total = 0.0
    for iteration in range(n_iterations):
        s = max_sh_iter - 1 - (iteration % max_sh_iter)
        n0 = int(math.floor(max_sh_iter / (s + 1)) * eta**s)
        counts = [max(int(n0 * eta ** (-i)), 1) for i in range(s + 1)]
        total += sum(n * b for n, b in zip(counts, budgets[-s - 1 :]))
    return total


@contextlib.contextmanager
def _locked(out: Path):
    """One writer at a time on the live log (NePS's workers are separate processes)."""
    with open(out / ".log.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _record(out: Path, config_id: list[int], config: dict, budget: float, stamps: dict, result, exception) -> None:
    with _locked(out):
        if tuple(config_id) not in {row.config_id for row in read_configs(out)}:
            append_json_line(out / CONFIGS, plain([config_id, config, {"optimizer": "priorband"}]))
        append_json_line(out / RESULTS, plain([config_id, budget, stamps, result, exception]))


def _evaluator(out: Path, task, mode: str):
    from .worker import evaluate

    kinds = {d.name: d.kind for d in dimensions(mode)}

    def evaluate_pipeline(pipeline_id: str, **params: Any) -> dict[str, Any]:
        budget = float(params.pop(FIDELITY))
        config = active({k: int(v) if kinds[k] == "int" else v for k, v in plain(params).items()}, mode)
        number = int(str(pipeline_id).split("_")[0])
        config_id = [number, 0, 0]
        directory = out / "evaluations" / NEPS_DIR / f"{number}_b{budget:g}" if mode == "meta" else None
        stamps = {"submitted": time.time(), "started": time.time()}
        try:
            result = evaluate(config, budget, task, directory)
        except Exception:
            stamps["finished"] = time.time()
            _record(out, config_id, config, budget, stamps, None, traceback.format_exc())
            _log.warning("config %s at budget %g failed", tuple(config_id), budget)
            raise
        stamps["finished"] = time.time()
        _record(out, config_id, config, budget, stamps, result, None)
        _log.info("config %s at budget %g: loss %.4f", tuple(config_id), budget, result["loss"])
        return {"objective_to_minimize": result["loss"], "cost": budget}

    return evaluate_pipeline


def serve(out: str | Path, worker_id: str | None = None) -> None:
    """One PriorBand worker of the run in ``out``: evaluate until the run's budget is spent."""
    from .worker import Task, warm_up

    neps = _neps()
    out = Path(out)
    entry = newest_run(out)
    if entry is None or entry.get("optimizer") != "priorband":
        raise AutoRLError(f"{out}: no PriorBand run described in run.json")
    settings, prior = entry["settings"], entry["prior"]
    task = Task.from_description(entry["task"])
    import torch

    # One core per worker, as BOHB's workers, also for the one worker that runs in the optimize process
    # itself. With torch's default threads beside another busy process on 2 cores, an LSTM configuration
    # spent 0.8 s in each LSTM call and finished no episode in 45 s (loss 1.0 for 15 of 17 evaluations).
    torch.set_num_threads(1)
    warm_up()
    logging.getLogger("neps").setLevel(logging.WARNING)
    neps.run(
        evaluate_pipeline=_evaluator(out, task, settings["mode"]),
        pipeline_space=neps_space(settings["mode"], prior, settings["min_budget"], settings["max_budget"]),
        root_directory=out / NEPS_DIR,
        optimizer=("priorband", {"eta": int(settings["eta"]), "sample_prior_first": True}),
        total_fidelities_to_spend=entry["fidelity_to_spend"],
        ignore_errors=True,
        worker_id=worker_id,
    )


def run_priorband(task, settings, out: str | Path, *, prior: dict[str, Any], workers: int = 1) -> dict | None:
    """A whole PriorBand run on this machine: ``workers`` processes sharing ``out/neps``; returns the incumbent.

    Raises:
        AutoRLError: NePS is missing, or ``out`` already holds a run.
    """
    _neps()
    from .master import prepare_run
    from .report import load_run

    if workers < 1:
        raise AutoRLError(f"workers must be at least 1, got {workers}")
    fidelity = bohb_fidelity(settings.min_budget, settings.max_budget, settings.eta, settings.n_iterations)
    extra = {"optimizer": "priorband", "prior": prior, "fidelity_to_spend": fidelity}
    out = prepare_run(settings, out, run_id=f"priorband-{time.time_ns()}", task=task, extra=extra)
    _log.info(
        "PriorBand %s search from prior %s: budgets %g..%g, eta %g, %g budget-seconds in all (as %d BOHB brackets)",
        settings.mode, prior["name"], settings.min_budget, settings.max_budget, settings.eta, fidelity,
        settings.n_iterations,
    )  # fmt: skip
    if workers == 1:
        serve(out, "worker_0")
    else:
        logs = out / "workers"
        logs.mkdir(exist_ok=True)
        procs = []
        try:
            for i in range(workers):
                with open(logs / f"priorband-{i}.log", "a", encoding="utf-8") as log:
                    procs.append(subprocess.Popen(
                        [sys.executable, "-m", "autorl.priorband", str(out.resolve()), f"worker_{i}"],
                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    ))  # fmt: skip
            for proc in procs:
                proc.wait()
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait()
    return load_run(out).incumbent()


if __name__ == "__main__":  # a worker process of run_priorband
    from rnadesign.cli.console import configure_logging

    configure_logging("autorl", quiet=False, verbose=0, timestamps=True)
    serve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
