"""The commands of ``rnadesign``: ``design``, ``benchmark`` (run, summary, compare) and ``meta-train``,
each turning parsed arguments into settings, running, and printing the result."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings

from ..errors import ConfigError, RnaDesignError
from ..model.constraints import DesignConstraints
from ..model.structure import InvalidTargetFileError, Structure, Target, read_targets
from . import output
from .console import (
    EXIT_OK,
    EXIT_USAGE,
    SEED_LIMIT,
)

_log = logging.getLogger("rnadesign.cli")


def _folding_model(args: argparse.Namespace):
    from ..model.folding import FoldingModel

    return FoldingModel(args.energy_parameters, args.dangles, args.temperature)


def design_constraints(
    sequence_constraint: str | None = None,
    gc_content: float | None = None,
    gc_tolerance: float | None = None,
    avoid: tuple[str, ...] = (),
    no_gu: bool = False,
) -> DesignConstraints | None:
    """The constraints the constraint options ask for, or None when they set none (raises ConstraintError
    or ConfigError with the one-line message). The command line and the web page (rnadesign.web) share it."""
    if gc_tolerance is not None and gc_content is None:
        raise ConfigError("--gc-tolerance needs --gc-content")
    constraints = DesignConstraints(
        sequence=sequence_constraint,
        gc_content=gc_content,
        avoid=avoid,
        allow_gu=not no_gu,
        **({} if gc_tolerance is None else {"gc_tolerance": gc_tolerance}),
    )
    return constraints if constraints.active else None


def _constraints(args: argparse.Namespace) -> DesignConstraints | None:
    """The command line's constraints, or None when it sets none (checked here: one line, exit 2)."""
    return design_constraints(args.sequence_constraint, args.gc_content, args.gc_tolerance, args.avoid, args.no_gu)


def _limit_threads(n: int) -> None:
    """Run torch (and the BLAS below numpy) on ``n`` threads, whether or not torch is loaded yet."""
    import os

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(n)  # read by torch when it is first imported
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def _search_config(args: argparse.Namespace):
    from ..config import SearchConfig, load_search_config

    return SearchConfig() if args.search_config is None else load_search_config(args.search_config)


def _collect_targets(args: argparse.Namespace) -> list[Target]:
    """The targets of ``design``: the TARGET argument or the ``--input`` file (raises on neither or both)."""
    if args.target is not None and args.input is not None:
        raise InvalidTargetFileError("give either a TARGET or --input FILE, not both")
    if args.input is not None:
        return read_targets(args.input)
    if args.target is None:
        raise InvalidTargetFileError("no target given: pass a dot-bracket TARGET or --input FILE")
    return [Target(name="target", text=args.target)]


def _validate(
    targets: list[Target], constraints: DesignConstraints | None = None
) -> tuple[list[tuple[Target, Structure, DesignConstraints | None]], int]:
    """Parse every target and bind its constraints (``constraints`` and its own constraint line); report
    the bad ones on stderr and return the good ones with their constraints."""
    good, bad = [], 0
    for target in targets:
        try:
            structure, own, caught = bind_target(target, constraints)
        except RnaDesignError as err:  # a malformed target, or constraints it cannot meet
            _log.error("%s", target_error(target, err))
            bad += 1
            continue
        for w in caught:
            _log.warning("%s: %s", target.name, w.message)
        good.append((target, structure, own))
    return good, bad


def bind_target(
    target: Target, constraints: DesignConstraints | None
) -> tuple[Structure, DesignConstraints | None, list[warnings.WarningMessage]]:
    """Parse one target and bind its constraints (``constraints`` and its own constraint line): its
    structure, its constraints and the warnings on it; raises RnaDesignError (see :func:`target_error`)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        structure = target.parse()
        own = DesignConstraints.of_target(constraints, target.constraint)
        if own is not None:
            own.bind(structure)
    return structure, own, list(caught)


def target_error(target: Target, err: RnaDesignError) -> str:
    """The one line a bad target is reported with (its name first, unless it is the TARGET argument)."""
    return f"{target.name}: {err}" if target.name != "target" else str(err)


def _print_interrupted(result, name: str, fmt: str, header: str | None) -> None:
    """On Ctrl-C: the best design so far, marked interrupted (``interrupted=yes``), or a line saying there is none."""
    if result is None or not result.sequence:
        _log.error("[%s] interrupted before any design finished", name)
        return
    print((header or "") + output.render(result, fmt), end="", flush=True)
    state = "solved" if result.solved else f"unsolved, distance {result.distance}"
    _log.warning("[%s] interrupted after %.1fs: above is the best design so far (%s)", name, result.time_s, state)


def _no_design(name: str, time_limit: float) -> str:
    return f"{name}: no design finished within the {time_limit:g}s time limit; give it more time"


def _check_mode_options(args: argparse.Namespace, mode) -> None:
    """Refuse an option that the mode would ignore, naming the modes it applies to."""
    from ..modes import MODES

    def applies(flag: str, which) -> str:
        names = [m.name for m in MODES.values() if which(m)]
        return f"{flag} applies to --mode {' or '.join(names)}, not {mode.name}"

    if args.config is not None and not mode.accepts_config:
        raise ConfigError(
            applies("--config", lambda m: m.accepts_config)
            + ("; this mode takes its configuration from the policy file (--policy)" if mode.uses_policy else "")
        )
    if getattr(args, "policy", None) is not None and not mode.uses_policy:
        raise ConfigError(applies("--policy", lambda m: m.uses_policy))
    if getattr(args, "stall_restart", None) is not None and not mode.stall_restart:
        raise ConfigError(applies("--stall-restart", lambda m: m.stall_restart))
    if getattr(args, "restart_timeout", None) is not None and not mode.restarts:
        raise ConfigError(applies("--restart-timeout", lambda m: m.restarts))
    if getattr(args, "search_config", None) is not None and not mode.searches:
        raise ConfigError(applies("--search-config", lambda m: m.searches))


def _cmd_design(args: argparse.Namespace) -> int:
    from ..modes import DEFAULT_MODE, get_mode

    folding = _folding_model(args)  # a bad parameter file stops the command before anything else
    good, bad = _validate(_collect_targets(args), _constraints(args))
    if not good:
        return EXIT_USAGE
    from ..model.designability import undesignable

    for target, structure, _ in good:  # a design still runs: the closest sequence may be of use
        for reason in undesignable(structure, folding, loops=False):
            _log.warning("%s: no sequence can fold into this target: %s", target.name, reason)
    if args.mode is None:  # a configuration is an agent to train: that is the learna mode
        args.mode = "learna" if args.config is not None else DEFAULT_MODE
    mode = get_mode(args.mode)
    _check_mode_options(args, mode)
    # Once for all targets: fail now, with one clear line, before any design, and read a policy file once.
    resolved = mode.resolve(args.config, args.policy)

    from ..design import DesignInterrupted, DesignSettings, design

    search = _search_config(args)
    plots = None if args.plot is None else output.PlotWriter(args.plot)
    header = output.header(args.format)
    _limit_threads(args.threads)
    for index, (target, structure, constraints) in enumerate(good):
        seed = None if args.seed is None else (args.seed + index) % SEED_LIMIT
        settings = DesignSettings(
            mode=args.mode,
            time_limit=args.time_limit,
            num_solutions=args.num_solutions,
            restart_timeout=args.restart_timeout,
            stall_restart=DesignSettings.stall_restart if args.stall_restart is None else args.stall_restart,
            seed=seed,
            folding=folding,
            policy=args.policy,
            search=search,
            constraints=constraints,
        )
        _log.info("[%s] designing %d nt, mode %s, %gs budget", target.name, len(structure), args.mode, args.time_limit)
        if constraints is not None:
            _log.info("[%s] constraints: %s", target.name, constraints.describe())
        try:
            result = design(structure, settings, name=target.name, resolved=resolved)
        except DesignInterrupted as stop:  # the best design so far, then exit 130 (SIGTERM: 143)
            _print_interrupted(stop.result, target.name, args.format, header)
            raise
        except RnaDesignError as err:  # e.g. a budget too small for this target: the others still run
            _log.error("%s", err)
            bad += 1
            continue
        if not result.sequence:  # not even one design finished: nothing to report, and no success
            _log.error("%s", _no_design(target.name, args.time_limit))
            bad += 1
            continue
        verdict = "solved" if result.solved else f"not solved (best distance {result.distance})"
        _log.info("[%s] %s in %.1fs, seed %d", target.name, verdict, result.time_s, result.seed)
        if header is not None:
            print(header, end="")
            header = None
        print(output.render(result, args.format), end="", flush=True)
        if plots is not None:
            for path in plots.write(result):
                _log.info("[%s] picture: %s", target.name, path)
    return EXIT_USAGE if bad else EXIT_OK


def _benchmark_config(method: str, config: str | None, policy: str | None) -> dict:
    """What the summary records about the method's agent: the configuration, or the policy file and its card."""
    from ..modes import get_mode

    mode = get_mode(method)
    agent, policy_file = mode.resolve(config, policy)
    if policy_file is not None:
        from ..rl.policy_file import policy_path

        path = str(policy_path(policy, mode.policy).resolve())
        return {"policy": path, "agent": policy_file.agent.to_dict(), "card": policy_file.card}
    if agent is not None:
        return agent.to_dict()
    return {"method": method}


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from ..benchmark.datasets import load_dataset
    from ..benchmark.runner import check_only, run_benchmark
    from ..benchmark.spec import BenchmarkSpec, read_results, series_id
    from ..benchmark.summary import plot, series_summary_name, summarize, table
    from ..files import atomic_write_json, output_directory
    from ..modes import get_mode

    dataset = load_dataset(args.dataset)
    spec = BenchmarkSpec(
        method=args.method,
        time_limit=args.time_limit,
        runs=args.runs,
        jobs=args.jobs,
        seed=args.seed,
        config=args.config,
        folding=_folding_model(args),
        only=args.only,
        stall_restart=args.stall_restart,
        restart_timeout=args.restart_timeout,
        policy=args.policy,
        search=_search_config(args),
        shard=args.shard,
        constraints=_constraints(args),
    )
    _check_mode_options(args, get_mode(args.method))
    config = _benchmark_config(args.method, args.config, args.policy)
    check_only(dataset, args.only)
    out = output_directory(args.out)  # created only once every argument is known to be good
    records = run_benchmark(dataset, spec, out)
    series = spec.series()
    summary = summarize(
        records,
        dataset=dataset.name,
        method=args.method,
        time_limit=args.time_limit,
        n_targets=len(args.only) if args.only else len(dataset.targets),
        runs=args.runs,
        config=config,
    )
    summary["series"] = {"id": series_id(series), **series}
    if args.shard is not None:  # a part of the benchmark: its own summary, merged by 'benchmark summary'
        from ..benchmark.spec import shard_label
        from ..benchmark.summary import shard_summary_name

        summary["series"].update(shard=shard_label(args.shard), only=list(args.only) if args.only else None)
        atomic_write_json(out / shard_summary_name(args.shard), summary)
        print(table(summary), flush=True)
        return EXIT_OK
    atomic_write_json(out / "summary.json", summary)
    atomic_write_json(out / series_summary_name(summary), summary)
    plot(out, read_results(out), dataset=dataset.name, n_targets=len(dataset.targets))
    print(table(summary), flush=True)
    return EXIT_OK


def _cmd_meta_train(args: argparse.Namespace) -> int:
    from ..benchmark.datasets import load_dataset
    from ..config import load_agent_config
    from ..files import output_directory

    output_directory(args.out)
    train_set = load_dataset(args.train)
    validation_set = load_dataset(args.validation)
    agent = load_agent_config(args.config)
    train = [t.parse(warn=False) for t in train_set.targets[: args.max_train]]
    validation = [t.parse(warn=False) for t in validation_set.targets]
    folding = _folding_model(args)
    _limit_threads(1)
    from ..rl.distributed import detect_world
    from ..rl.meta import MetaTrainSettings, meta_train

    world = detect_world()  # torchrun's or srun's variables; a group of one otherwise
    settings = MetaTrainSettings(
        time_budget=args.time_budget,
        workers=args.workers,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        validate_every=args.validate_every,
        validation_episodes=args.validation_episodes,
        **({} if args.dist_timeout is None else {"dist_timeout": args.dist_timeout}),
    )
    card = meta_train(
        train,
        validation,
        agent,
        args.out,
        settings,
        resume=args.resume,
        folding=folding,
        train_name=f"{train_set.name} ({len(train)} structures)",
        world=world,
    )
    if world.rank == 0:
        print(json.dumps(card, indent=2), flush=True)
    if world.world_size > 1:
        # Every result is written and the group is left; the interpreter's shutdown can still end a
        # rank with SIGABRT inside torch ("terminate called without an active exception", 1 of 6
        # runs of the two-rank test on a loaded machine), which torchrun and srun report as a failed
        # job. Leave without it.
        sys.stderr.flush()
        logging.shutdown()
        os._exit(EXIT_OK)
    return EXIT_OK


def _cmd_summary(args: argparse.Namespace) -> int:
    from ..benchmark.summary import merge_shards, plot, series_summary_name, table
    from ..files import atomic_write_json, output_directory

    summary, records = merge_shards(args.dirs)
    out = output_directory(args.out or args.dirs[0])
    atomic_write_json(out / "summary.json", summary)
    atomic_write_json(out / series_summary_name(summary), summary)
    plot(out, records, dataset=summary["dataset"], n_targets=summary["n_targets"])
    print(table(summary), flush=True)
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:
    if args.stats:
        from ..benchmark.stats import compare_stats

        print(compare_stats(args.dirs, pool=args.pool, at=args.at), flush=True)
        return EXIT_OK
    if args.pool or args.at is not None:
        raise ConfigError(f"{'--pool' if args.pool else '--at'} applies to the test: add --stats")
    from ..benchmark.summary import compare

    print(compare(args.dirs), flush=True)
    return EXIT_OK
